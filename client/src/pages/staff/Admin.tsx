/**
 * Administration (admins only): each role's loan policy, and who has which role. Money fields are typed in
 * major units and sent as cents; the server judges the ranges and its messages are shown as written.
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { ErrorMessage, Field, Loading, Notice, PageHeading } from '../../components/ui';
import { graphql } from '../../gql';
import type { LoanPolicyInput, Role } from '../../gql/graphql';
import { Link } from '../../lib/router';
import { centsToMajor, parseMoney, parseWholeNumber } from './forms';
import { PatronFinder, type FoundUser } from './PatronFinder';

const PoliciesQuery = graphql(`
  query AdminLoanPolicies {
    loanPolicies {
      role
      loanDays
      maxRenewals
      maxActiveLoans
      finePerOverdueDayCents
      maxFinePerLoanCents
      holdPickupDays
      maxBalanceCents
    }
  }
`);

const UpdatePolicyMutation = graphql(`
  mutation AdminUpdateLoanPolicy($role: Role!, $input: LoanPolicyInput!) {
    updateLoanPolicy(role: $role, input: $input) {
      role
      loanDays
      maxRenewals
      maxActiveLoans
      finePerOverdueDayCents
      maxFinePerLoanCents
      holdPickupDays
      maxBalanceCents
    }
  }
`);

const SetRoleMutation = graphql(`
  mutation AdminSetUserRole($userId: ID!, $role: Role!) {
    setUserRole(userId: $userId, role: $role) {
      id
      name
      email
      role
    }
  }
`);

type PolicyField = keyof LoanPolicyInput;

/** The policy's fields in form order, with their labels and whether they are money (cents). */
export const POLICY_FIELDS: { key: PolicyField; label: string; money: boolean }[] = [
  { key: 'loanDays', label: 'Loan days', money: false },
  { key: 'maxRenewals', label: 'Maximum renewals', money: false },
  { key: 'maxActiveLoans', label: 'Maximum active loans', money: false },
  { key: 'finePerOverdueDayCents', label: 'Fine per overdue day', money: true },
  { key: 'maxFinePerLoanCents', label: 'Maximum fine per loan', money: true },
  { key: 'holdPickupDays', label: 'Hold pickup days', money: false },
  { key: 'maxBalanceCents', label: 'Maximum balance to borrow', money: true },
];

type Policy = Record<PolicyField, number> & { role: Role };
type PolicyForm = Record<PolicyField, string>;

/** A policy as the form shows it: whole numbers as typed, money in major units. */
export function policyToForm(policy: Record<PolicyField, number>): PolicyForm {
  return Object.fromEntries(
    POLICY_FIELDS.map(({ key, money }) => [key, money ? centsToMajor(policy[key]) : String(policy[key])]),
  ) as PolicyForm;
}

/**
 * The changed fields of a policy form as LoanPolicyInput (money back to cents); fields left as they were
 * are left out, so they keep their value even if another admin changed them meanwhile.
 */
export function policyChanges(
  form: PolicyForm,
  current: Record<PolicyField, number>,
): { ok: true; input: LoanPolicyInput } | { ok: false; error: string } {
  const input: LoanPolicyInput = {};
  for (const { key, label, money } of POLICY_FIELDS) {
    const parsed = money ? parseMoney(form[key], label) : parseWholeNumber(form[key], label);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    if (parsed.value !== null && parsed.value !== current[key]) input[key] = parsed.value;
  }
  return { ok: true, input };
}

export function Admin() {
  return (
    <section>
      <PageHeading title="Administration">Administration</PageHeading>
      <LoanPolicies />
      <Roles />
    </section>
  );
}

function LoanPolicies() {
  const [result] = useQuery({ query: PoliciesQuery, requestPolicy: 'cache-and-network' });
  const policies = result.data?.loanPolicies;
  return (
    <section aria-labelledby="policies-heading">
      <h2 id="policies-heading">Loan policies</h2>
      <p className="muted">Changes apply to checkouts, renewals and returns from now on. Money is in the library’s currency, e.g. 0.25.</p>
      <ErrorMessage error={result.error} />
      {!policies ? (
        result.fetching && <Loading />
      ) : (
        <div className="policy-forms">
          {policies.map((policy) => (
            <PolicyEditor key={policy.role} policy={policy} />
          ))}
        </div>
      )}
    </section>
  );
}

function PolicyEditor({ policy }: { policy: Policy }) {
  const [form, setForm] = useState<PolicyForm>(() => policyToForm(policy));
  const [localError, setLocalError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [result, update] = useMutation(UpdatePolicyMutation);
  const role = policy.role;
  const headingId = `policy-${role}-heading`;

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(null);
    const changes = policyChanges(form, policy);
    if (!changes.ok) return setLocalError(changes.error);
    setLocalError(null);
    if (Object.keys(changes.input).length === 0) return setSaved(`Nothing to save: the ${role} policy is unchanged.`);
    const { data } = await update({ role, input: changes.input });
    if (data) {
      setForm(policyToForm(data.updateLoanPolicy));
      setSaved(`Saved the ${role} policy.`);
    }
  };

  return (
    <form onSubmit={onSubmit} noValidate aria-labelledby={headingId} className="card policy-form">
      <h3 id={headingId}>{role} policy</h3>
      {POLICY_FIELDS.map(({ key, label, money }) => {
        const id = `policy-${role}-${key}`;
        return (
          <Field key={key} id={id} label={label}>
            <input
              id={id}
              inputMode={money ? 'decimal' : 'numeric'}
              autoComplete="off"
              value={form[key]}
              onChange={(e) => {
                setForm({ ...form, [key]: e.target.value });
                setSaved(null);
              }}
              aria-describedby={`policy-${role}-outcome`}
            />
          </Field>
        );
      })}
      <div id={`policy-${role}-outcome`}>
        <ErrorMessage error={localError ? new Error(localError) : result.error} />
        {saved && <Notice>{saved}</Notice>}
      </div>
      <button type="submit" disabled={result.fetching}>
        {result.fetching ? 'Saving…' : `Save ${role} policy`}
      </button>
    </form>
  );
}

const ROLES: Role[] = ['PATRON', 'LIBRARIAN', 'ADMIN'];

function Roles() {
  const [chosen, setChosen] = useState<FoundUser | null>(null);
  const [role, setRole] = useState<Role>('PATRON');
  const [changed, setChanged] = useState<string | null>(null);
  // Whose change the last answer was about: a refusal for one person is not shown next to another.
  const [attemptFor, setAttemptFor] = useState<string | null>(null);
  const [result, setUserRole] = useMutation(SetRoleMutation);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (!chosen) return;
    setChanged(null);
    setAttemptFor(chosen.id);
    const { data } = await setUserRole({ userId: chosen.id, role });
    if (data) {
      const user = data.setUserRole;
      setChosen({ ...chosen, role: user.role });
      setChanged(`${user.name} is now ${user.role}. Their sessions have ended; the new role applies from their next sign-in.`);
    }
  };

  return (
    <section aria-labelledby="roles-heading">
      <h2 id="roles-heading">Roles</h2>
      {chosen ? (
        <div className="card">
          <p>
            <strong>
              <Link to={`/staff/patrons/${chosen.id}`}>{chosen.name}</Link>
            </strong>{' '}
            <span className="muted">{chosen.email}</span> — currently {chosen.role}
          </p>
          <form onSubmit={onSubmit} noValidate className="inline-form">
            <Field id="roles-role" label="Role">
              <select id="roles-role" value={role} onChange={(e) => setRole(e.target.value as Role)} aria-describedby="roles-outcome">
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </Field>
            <button type="submit" disabled={result.fetching}>
              {result.fetching ? 'Changing…' : 'Change role'}
            </button>
          </form>
          <div id="roles-outcome">
            {attemptFor === chosen.id && <ErrorMessage error={result.error} />}
            {changed && <Notice>{changed}</Notice>}
          </div>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setChosen(null);
              setChanged(null);
            }}
          >
            Choose someone else
          </button>
        </div>
      ) : (
        <PatronFinder
          label="Find user"
          inputId="roles-find-user"
          showRole
          onSelect={(user) => {
            setChosen(user);
            setRole(user.role as Role);
            setChanged(null);
          }}
        />
      )}
    </section>
  );
}
