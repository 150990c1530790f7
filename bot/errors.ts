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

/**
 * Thrown by a handler when a field can only be filled by asking (a deadline not given, whether the
 * citizen was told): the router keeps a draft and asks for exactly that field.
 */
export class AskFor extends Error {
  constructor(readonly key: string, readonly why: 'missing' | 'several' | 'guess' = 'missing', readonly options?: string[], readonly note?: string) {
    super(`ask for ${key}`);
    this.name = 'AskFor';
  }
}
