import { describe, it, expect } from 'vitest';
import { azurite, uniqueName } from '../support/azurite.js';
import { tableClient, ensureTable } from '../../shared/storage/connection.js';

describe('Azurite from the project', () => {
  it('stores and reads a table entity, and refuses a duplicate insert', async () => {
    const t = tableClient(azurite(), uniqueName('smoke'));
    await ensureTable(t);
    await t.createEntity({ partitionKey: 'p', rowKey: 'r', v: 1 });
    expect((await t.getEntity<{ v: number }>('p', 'r')).v).toBe(1);
    await expect(t.createEntity({ partitionKey: 'p', rowKey: 'r', v: 2 })).rejects.toMatchObject({ statusCode: 409 });
  });
});
