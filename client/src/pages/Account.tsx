/**
 * My account: the signed-in patron's loans, holds, fines, notification settings and profile, one tab at a
 * time. The tab is in the address (`?tab=holds`), so a notification can link straight to it and a reload
 * stays where it was. Tabs are plain links marked with aria-current, each panel under its own heading.
 */
import type { ReactNode } from 'react';
import { PageHeading } from '../components/ui';
import { Link, useLocation } from '../lib/router';
import { Fines } from './account/Fines';
import { Holds } from './account/Holds';
import { Loans } from './account/Loans';
import { NotificationSettings } from './account/NotificationSettings';
import { Profile } from './account/Profile';

interface Tab {
  id: string;
  label: string;
  render: () => ReactNode;
}

const TABS: Tab[] = [
  { id: 'loans', label: 'Loans', render: () => <Loans /> },
  { id: 'holds', label: 'Holds', render: () => <Holds /> },
  { id: 'fines', label: 'Fines', render: () => <Fines /> },
  { id: 'notifications', label: 'Notification settings', render: () => <NotificationSettings /> },
  { id: 'profile', label: 'Profile', render: () => <Profile /> },
];

export function Account() {
  const { search } = useLocation();
  const current = TABS.find((tab) => tab.id === search.get('tab')) ?? (TABS[0] as Tab);
  return (
    <section>
      <PageHeading title="My account">My account</PageHeading>
      <nav aria-label="Account sections">
        <ul className="tabs">
          {TABS.map((tab) => (
            <li key={tab.id}>
              <Link to={`/account?tab=${tab.id}`} aria-current={tab.id === current.id ? 'page' : undefined}>
                {tab.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="account-panel">{current.render()}</div>
    </section>
  );
}
