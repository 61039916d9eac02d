/** TODO(#10): being built. */
import { PageHeading } from '../components/ui';

export function Account() {
  return <PageHeading title="Account">Account</PageHeading>;
}
