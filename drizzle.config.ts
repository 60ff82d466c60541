import { defineConfig } from 'drizzle-kit';

// drizzle-kit only generates SQL from the table definitions; it never connects.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/tables/index.ts',
  out: './drizzle',
});
