import { maxFineCentsFromEnv } from '@shelfwise/kit';
import { validatePolicyChanges } from '../src/policy.js';

describe('loan policy changes', () => {
  it('caps the fine per loan at the largest single fine payments accepts', () => {
    expect(validatePolicyChanges({ maxFinePerLoanCents: 100_000 }, 100_000)).toEqual({ maxFinePerLoanCents: 100_000 });
    expect(() => validatePolicyChanges({ maxFinePerLoanCents: 100_001 }, 100_000)).toThrow(
      /from 0 to 100000 \(no single fine may be larger/,
    );
    // A library that raised SHELFWISE_MAX_FINE_CENTS may raise the cap as far, never past the policy's own limit.
    expect(validatePolicyChanges({ maxFinePerLoanCents: 250_000 }, 500_000)).toEqual({ maxFinePerLoanCents: 250_000 });
    expect(() => validatePolicyChanges({ maxFinePerLoanCents: 1_000_001 }, 1_000_000)).toThrow(
      'Maximum fine per loan (cents) ("maxFinePerLoanCents") must be a whole number from 0 to 1000000; got 1000001.',
    );
  });

  it('names each field by its label and key, and keeps only what was given', () => {
    expect(() => validatePolicyChanges({ holdPickupDays: 61 })).toThrow(
      'Hold pickup days ("holdPickupDays") must be a whole number from 1 to 60; got 61.',
    );
    expect(validatePolicyChanges({ loanDays: 21, maxRenewals: null })).toEqual({ loanDays: 21 });
    expect(() => validatePolicyChanges({})).toThrow('Give at least one policy field to change.');
  });

  it('reads the limit as payments does (SHELFWISE_MAX_FINE_CENTS, default 100,000)', () => {
    expect(maxFineCentsFromEnv({})).toBe(100_000);
    expect(maxFineCentsFromEnv({ SHELFWISE_MAX_FINE_CENTS: '250000' })).toBe(250_000);
    expect(() => maxFineCentsFromEnv({ SHELFWISE_MAX_FINE_CENTS: '0' })).toThrow(
      'SHELFWISE_MAX_FINE_CENTS must be a whole number from 1 to 1000000, got 0.',
    );
  });
});
