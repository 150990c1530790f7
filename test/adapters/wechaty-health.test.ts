/** wechaty's login and logout show in the adapter's health (and so in /healthz). */
import { describe, expect, it } from 'vitest';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import { Chat } from '../chat.js';
import { createLogger } from '../../bot/logger.js';
import { createWechatyAdapter } from '../../bot/adapters/wecom/index.js';
import { until } from './gateways.js';

describe('wechaty health', () => {
  it('is starting until login, ready after it, and failed with a 重新扫码 hint after a logout', async () => {
    const chat = await Chat.demo();
    const msgs: Array<Record<string, any>> = [];
    const log = createLogger('info', { write: (s: string) => { msgs.push(JSON.parse(s)); } });
    const mocker = new mock.Mocker();
    const adapter = createWechatyAdapter({ puppet: new PuppetMock({ mocker }) }, { handle: chat.app.handle, log, send: async () => {} });
    try {
      expect(adapter.transport).toBe('wechaty');
      expect(adapter.routes()).toEqual([]);
      await adapter.start();
      expect(adapter.health().state).toBe('starting');
      mocker.login(mocker.createContact({ name: '民情' }));
      await until(() => adapter.health().state === 'ready', 5000, 'login');
      await adapter.bot.logout();
      await until(() => adapter.health().state === 'failed', 5000, 'logout seen');
      expect(adapter.health().detail).toContain('请重新扫码登录');
      expect(msgs.some((m) => m.msg === 'wechaty logged out: no messages until someone logs in again')).toBe(true);
    } finally {
      await adapter.stop();
      await chat.close();
    }
    expect(adapter.health().state).toBe('stopped');
  });
});
