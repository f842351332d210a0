import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { expect, test } from './fixtures';
import { caregate, TOKEN_PATTERN } from './helpers';

// A client nobody here wrote: the official TypeScript MCP SDK, over Streamable HTTP with the bearer header.
async function connect(baseURL: string, token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL('/api/mcp', baseURL), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'caregate-e2e', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

test('the official MCP SDK initializes, lists tools, calls them, and is refused once the key is revoked', async ({ baseURL }) => {
  const token = caregate('keys', 'mint', '--email', 'barbara@sunrise.test', '--label', 'TypeScript SDK', '--all-scopes').trim();
  expect(token).toMatch(TOKEN_PATTERN);
  const client = await connect(baseURL!, token);
  expect(client.getServerVersion()?.name).toBe('caregate');

  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual(
    ['get_profile', 'get_schedule', 'get_visit', 'list_messages', 'list_open_shifts', 'list_visits', 'whoami'],
  );

  const whoami = await client.callTool({ name: 'whoami', arguments: {} });
  expect(whoami.isError).toBeFalsy();
  expect((whoami.structuredContent as any).user.email).toBe('barbara@sunrise.test');

  const visits = await client.callTool({ name: 'list_visits', arguments: {} });
  const rows = (visits.structuredContent as any).visits as Array<{ caregiver_name: string }>;
  expect(rows.length).toBeGreaterThan(0);
  expect(new Set(rows.map((v) => v.caregiver_name))).toEqual(new Set(['Barbara Lee']));

  const patients = await client.callTool({ name: 'list_patients', arguments: {} });
  expect(patients.isError).toBe(true);
  expect((patients.content as Array<{ text: string }>)[0].text).toBe('Insufficient scope. Required: read:patients');

  caregate('keys', 'revoke', token.slice(8, 16));
  await expect(client.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow();
  await client.close().catch(() => undefined);

  await expect(connect(baseURL!, token)).rejects.toThrow();
});
