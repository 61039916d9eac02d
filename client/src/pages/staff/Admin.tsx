/** TODO(#10): being built. */
import { PageHeading } from '../../components/ui';

export function Admin() {
  return <PageHeading title="Admin">Admin</PageHeading>;
}
