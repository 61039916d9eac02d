import { DateTimeScalar } from '@shelfwise/kit';
import type { Resolvers } from '../generated/graphql.js';
import { Fine } from './Fine.js';
import { Payment } from './Payment.js';
import { User } from './User.js';

export const resolvers: Resolvers = { DateTime: DateTimeScalar, Fine, Payment, User };
