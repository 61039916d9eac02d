import { isUuid, ServiceClient, type Logger, type SubgraphDirectory } from '@shelfwise/kit';

/** Whether a user account exists, so a librarian cannot fine an id that belongs to nobody. */
export interface PatronDirectory {
  exists(userId: string): Promise<boolean>;
}

const USER_EXISTS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id } } }`;

/**
 * Asks the users service (which owns accounts) through its public `User` entity, with a service
 * credential. SERVICE_UNAVAILABLE when it does not answer: the fine is then not recorded.
 */
export class UsersServicePatronDirectory implements PatronDirectory {
  private readonly client: ServiceClient;

  constructor(directory: SubgraphDirectory, logger?: Logger) {
    this.client = new ServiceClient('payments', directory, logger);
  }

  async exists(userId: string): Promise<boolean> {
    if (!isUuid(userId)) return false;
    const data = await this.client.call<{ _entities: ({ id: string } | null)[] }>('users', USER_EXISTS, {
      reps: [{ __typename: 'User', id: userId }],
    });
    return data._entities[0]?.id === userId;
  }
}
