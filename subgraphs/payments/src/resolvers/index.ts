import { DateTimeScalar } from '@shelfwise/kit';
import type { Resolvers } from '../generated/graphql.js';
import { Fine } from './Fine.js';
import { FineWaiver } from './FineWaiver.js';
import { Mutation } from './Mutation.js';
import { Payment } from './Payment.js';
import { Query } from './Query.js';
import { User } from './User.js';

export const resolvers: Resolvers = { DateTime: DateTimeScalar, Query, Mutation, Fine, FineWaiver, Payment, User };
