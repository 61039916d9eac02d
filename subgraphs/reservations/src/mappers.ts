/** The parent types resolvers receive for each GraphQL type (codegen.ts reads the `…Model` names). */
import type { Connection } from '@shelfwise/kit';
import type { Reservation } from './generated/prisma/client.js';

export type ReservationModel = Reservation;
export type ReservationConnectionModel = Connection<Reservation>;
/** Entities of other subgraphs are references: only the id; the fields added here load by that id. */
export type UserModel = { id: string };
export type BookModel = { id: string };
export type CopyModel = { id: string };
