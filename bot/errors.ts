/**
 * A UserError is bad input, a refusal or a missing record: its message is Chinese and goes to
 * the chat as it is. Anything else is a fault: logged with the event id, answered with an apology.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export const isUserError = (e: unknown): e is UserError => e instanceof UserError;
