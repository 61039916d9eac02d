import { DateTimeScalar } from '@shelfwise/kit';
import type { Resolvers } from '../generated/graphql.js';
import { Loan } from './Loan.js';
import { Mutation } from './Mutation.js';
import { Query } from './Query.js';
import { User } from './User.js';

export const resolvers: Resolvers = { DateTime: DateTimeScalar, Query, Mutation, Loan, User };
