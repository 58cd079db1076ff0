/**
 * A refusal of a `cloudhsm-cli` command: its message becomes the `data` of the CLI's error
 * envelope (`{"error_code":1,"data":"<message>"}`), so it never carries key material or PINs.
 */
export class CliError extends Error {}
