/** TODO(#10): being built. */
import { PageHeading } from '../components/ui';

export function Catalog() {
  return <PageHeading title="Catalog">Catalog</PageHeading>;
}
