/** Parsers for command-line values, shared by every command: each error says what was expected. */
import { InvalidArgumentError } from 'commander';

export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number of ${min} or more`);
    return n;
  };
}

export const positiveInt = wholeNumber(1);

export function finiteNumber(min = -Infinity): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(min === -Infinity ? 'expected a number' : `expected a number of ${min} or more`);
    return n;
  };
}
