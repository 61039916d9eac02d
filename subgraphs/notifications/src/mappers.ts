/** The parent types resolvers receive for each GraphQL type (codegen.ts reads the `…Model` names). */
import type { Connection } from '@shelfwise/kit';
import type { Notification } from './generated/prisma/client.js';
import type { Preferences } from './data/NotificationRepository.js';

export type NotificationModel = Notification;
export type NotificationConnectionModel = Connection<Notification>;
/** A user's preferences, with whose they are (not in the schema: access.ts checks the owner by it). */
export type NotificationPreferencesModel = Preferences & { userId: string };
/** A user is owned by the users service: this service only knows the id and adds fields to it. */
export type UserModel = { id: string };
/** Entities of other services, referenced by id only. */
export type BookModel = { id: string };
export type LoanModel = { id: string };
export type ReservationModel = { id: string };
