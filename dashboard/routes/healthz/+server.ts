import { json } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { health } from '$lib/server/health';

export async function GET() {
  const h = await health(db());
  return json(h, { status: h.status === 'down' ? 503 : 200, headers: { 'cache-control': 'no-store' } });
}
