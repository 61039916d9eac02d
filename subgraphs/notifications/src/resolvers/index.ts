import { DateTimeScalar } from '@shelfwise/kit';
import type { Resolvers } from '../generated/graphql.js';
import { Notification } from './Notification.js';
import { User } from './User.js';

export const resolvers: Resolvers = { DateTime: DateTimeScalar, Notification, User };
