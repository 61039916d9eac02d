/** TODO(#10): being built. */
import { PageHeading } from '../../components/ui';

export function PatronPage(_props: { id: string }) {
  return <PageHeading title="PatronPage">PatronPage</PageHeading>;
}
