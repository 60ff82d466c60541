import type { z } from 'zod';
import { BadUserInputError } from '../errors.js';

/**
 * Validates an argument against a schema.
 *
 * @returns the parsed value.
 * @throws BadUserInputError naming the first invalid argument path, never its value.
 */
export function validateInput<T>(schema: z.ZodType<T>, value: unknown, argumentName: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const path = [argumentName, ...(issue?.path ?? []).map(String)].join('.');
  throw new BadUserInputError(`Invalid ${path}: ${issue?.message ?? 'invalid value'}`, path);
}
