/** TODO(#10): being built. */
import { PageHeading } from '../../components/ui';

export function Patrons() {
  return <PageHeading title="Patrons">Patrons</PageHeading>;
}
