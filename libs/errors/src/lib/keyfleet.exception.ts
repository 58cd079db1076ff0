/**
 * The base of each library's one exception class (STYLE 9): a code from the library's enum,
 * a message safe to log (never a secret, key material or plaintext) and, when there is one,
 * the underlying error as `cause`. Transport adapters map the code, never the message text.
 */
export abstract class KeyfleetException<C extends string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
