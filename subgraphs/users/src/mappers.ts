/** The parent types resolvers receive for each GraphQL type (codegen.ts reads the `…Model` names). */
import type { User } from './generated/prisma/client.js';

/** A user row as every query returns it: the password hash is never selected (data/client.ts). */
export type UserModel = Omit<User, 'passwordHash'>;

/** A successful sign-in: the user and the tokens of the session just created or refreshed. */
export interface AuthPayloadModel {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  user: UserModel;
}
