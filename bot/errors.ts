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

/** A field the bot must ask for: missing, found with several values, or only guessable. */
export interface Ask {
  key: string;
  why: 'missing' | 'several' | 'guess' | 'intent';
  /** The values seen (several) or the word that might be meant (guess). */
  options?: string[];
  /** Why the question is asked again, or a handler's own wording of it. */
  note?: string;
}

/**
 * A field can only be filled by asking: thrown by the reader (with what it understood so far and
 * the other open questions) or by a handler (a deadline not given, whether the citizen was told —
 * the router adds the reading). The router keeps a draft and asks for exactly that field.
 */
export class AskFor extends Error {
  readonly ask: Ask;
  constructor(key: string, why: Ask['why'] = 'missing', options?: string[], note?: string,
    readonly raw?: Record<string, string>, readonly rest: Ask[] = []) {
    super(`ask for ${key}`);
    this.name = 'AskFor';
    this.ask = { key, why, options, note };
  }

  static of(ask: Ask, raw: Record<string, string>, rest: Ask[] = []): AskFor {
    return new AskFor(ask.key, ask.why, ask.options, ask.note, raw, rest);
  }
}
