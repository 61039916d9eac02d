/** TODO(#10): the unread count, live. */
import { Link } from '../lib/router';

export function Bell() {
  return <Link to="/notifications">Notifications</Link>;
}
