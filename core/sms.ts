// Text messages to residents, through one interface with two implementations: the local outbox (demo
// and tests: the message lands in sms_outbox, `yinling sms outbox` prints it) and an HTTP gateway for
// production (YINLING_SMS_GATEWAY_URL, with YINLING_SMS_GATEWAY_TOKEN as a bearer token; it receives
// JSON {phone, text} and answers 2xx). Every message is recorded in sms_outbox; with a gateway the
// recorded text has its one-time code blanked, so the database never holds a live code.
import type { Queryable } from './db/pool.ts';
import { HttpError } from './errors.ts';

export interface SmsMessage {
  phone: string;
  text: string;
  purpose: string;
  /** the part of `text` to blank in the record (a code) */ secret?: string;
}

export interface SmsSender {
  readonly channel: 'outbox' | 'gateway';
  send(db: Queryable, message: SmsMessage): Promise<void>;
}

export const outboxSender: SmsSender = {
  channel: 'outbox',
  async send(db, m) {
    await db.query(`INSERT INTO sms_outbox (phone, body, purpose, channel) VALUES ($1, $2, $3, 'outbox')`, [m.phone, m.text, m.purpose]);
  }
};

export function gatewaySender(url: string, token: string | undefined, timeoutMs = 10_000): SmsSender {
  return {
    channel: 'gateway',
    async send(db, m) {
      const recorded = m.secret ? m.text.split(m.secret).join('••••••') : m.text;
      let error: string | null = null;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ phone: m.phone, text: m.text }),
          signal: AbortSignal.timeout(timeoutMs)
        });
        if (!res.ok) error = `gateway answered ${res.status}`;
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      await db.query(`INSERT INTO sms_outbox (phone, body, purpose, channel, status, error) VALUES ($1, $2, $3, 'gateway', $4, $5)`, [
        m.phone,
        recorded,
        m.purpose,
        error ? 'failed' : 'sent',
        error
      ]);
      if (error)
        throw new HttpError(503, '短信暂时发不出去，请稍后再试 The text message could not be sent; please try again shortly', 'sms_failed');
    }
  };
}

/** The gateway when YINLING_SMS_GATEWAY_URL is set, else the local outbox. */
export function smsSenderFromEnv(env: Record<string, string | undefined> = process.env): SmsSender {
  return env.YINLING_SMS_GATEWAY_URL ? gatewaySender(env.YINLING_SMS_GATEWAY_URL, env.YINLING_SMS_GATEWAY_TOKEN) : outboxSender;
}
