/** TODO(#10): being built. */
import { PageHeading } from '../components/ui';

export function BookPage(_props: { id: string }) {
  return <PageHeading title="BookPage">BookPage</PageHeading>;
}
