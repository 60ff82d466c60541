import { describe, expect, it } from 'vitest';
import { wantsExplorer } from '../../../src/http/explorer/wantsExplorer.js';

const CHROMIUM =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8';
const FIREFOX = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('wantsExplorer', () => {
  it("takes a browser's navigation to the bare endpoint for the explorer", () => {
    expect(wantsExplorer('/graphql', CHROMIUM)).toBe(true);
    expect(wantsExplorer('/graphql', FIREFOX)).toBe(true);
    expect(wantsExplorer('/graphql?', 'text/html')).toBe(true);
  });

  it('leaves every GET that names an operation to GraphQL', () => {
    expect(wantsExplorer('/graphql?query=%7B__typename%7D', CHROMIUM)).toBe(false);
    expect(wantsExplorer('/graphql?extensions=%7B%7D&operationName=Chart', CHROMIUM)).toBe(false);
  });

  it('leaves JSON clients, curl and clients without Accept to GraphQL', () => {
    expect(wantsExplorer('/graphql', 'application/json')).toBe(false);
    expect(wantsExplorer('/graphql', 'application/graphql-response+json, application/json')).toBe(
      false,
    );
    expect(wantsExplorer('/graphql', '*/*')).toBe(false);
    expect(wantsExplorer('/graphql', undefined)).toBe(false);
    expect(wantsExplorer('/graphql', '')).toBe(false);
  });

  it('weighs quality factors, the most specific range deciding', () => {
    expect(wantsExplorer('/graphql', 'text/html;q=0.5, application/json')).toBe(false);
    expect(wantsExplorer('/graphql', 'text/html, application/json;q=0.5')).toBe(true);
    expect(wantsExplorer('/graphql', 'text/*, application/json;q=0.1')).toBe(true);
    expect(wantsExplorer('/graphql', 'text/html;q=0, */*')).toBe(false);
    expect(wantsExplorer('/graphql', 'garbage, ;;, text/html;q=abc')).toBe(false);
  });
});
