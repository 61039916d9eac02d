/** The parent types resolvers receive for each GraphQL type (codegen.ts reads the `…Model` names). */
import type { User } from './generated/prisma/client.js';

export type UserModel = User;
