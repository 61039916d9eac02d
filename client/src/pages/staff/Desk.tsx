/** TODO(#10): being built. */
import { PageHeading } from '../../components/ui';

export function Desk() {
  return <PageHeading title="Desk">Desk</PageHeading>;
}
