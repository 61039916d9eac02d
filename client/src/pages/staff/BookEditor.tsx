/** TODO(#10): being built. */
import { PageHeading } from '../../components/ui';

export function BookEditor(_props: { id?: string }) {
  return <PageHeading title="BookEditor">BookEditor</PageHeading>;
}
