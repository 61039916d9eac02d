/** TODO(#10): being built. */
import { PageHeading } from '../components/ui';

export function Notifications() {
  return <PageHeading title="Notifications">Notifications</PageHeading>;
}
