import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { openDb, type Db } from '../storage/db.js';
import { importRoster } from '../storage/roster.js';
import { unitStats } from '../storage/stats.js';
import { rootUnits } from '../storage/units.js';
import { cadres, quotaRules } from '../storage/schema.js';
import { oneWhere, setWhere } from './db-probe.js';

let chat: Chat;
beforeEach(async () => { chat = await Chat.demo(); });
afterEach(async () => { await chat.close(); });

const at = (iso: string) => ({ at: iso });
const lines = () => chat.lastReply.split('\n');
const line = (start: string) => lines().find((l) => l.startsWith(start)) ?? `(no line starting with ${start})`;

describe('/我的', () => {
  it('shows my numbers for this week, month and year and every quota that applies to me', async () => {
    await chat.says('u2', '/走访 今天 石门村 驻村 12小时', at('2026-11-20T09:00:00+08:00'));
    await chat.says('u2', '/走访 11月3日 石门村 入户 1天 走访困难户2户', at('2026-11-09T09:00:00+08:00'));
    await chat.says('u2', '/志愿 3小时 县福利院 义工日', at('2026-10-10T09:00:00+08:00'));
    await chat.says('u2', '/我的');
    expect(lines()[0]).toBe('张三（石门镇）截至2026年11月20日：');
    expect(line('本周')).toBe('本周（11月16日–11月22日）：走访 1 次，12 小时（1.5 天）；志愿服务 0 小时；解决问题 0 件');
    expect(line('本月')).toBe('本月（2026年11月）：走访 2 次，20 小时（2.5 天）；志愿服务 0 小时；解决问题 0 件');
    expect(line('本年')).toBe('本年（2026年）：走访 2 次，20 小时（2.5 天）；志愿服务 3 小时；解决问题 0 件');
    expect(chat.lastReply).toContain('✅ 每月到村开展工作（每月 到村走访 ≥1 次）：已 2 次');
    expect(chat.lastReply).toContain('✅ 每月到村工作天数（每月 到村 ≥2 天）：已 2.5 天');
    expect(chat.lastReply).toContain('❌ 每月驻村蹲点（每月 驻村蹲点 ≥2 天）：已 1.5 天，还差 0.5 天，截至11月30日');
    expect(chat.lastReply).toContain('❌ 驻村帮扶干部每月在村天数（每月 到村 ≥10 天）：已 2.5 天，还差 7.5 天，截至11月30日');
    expect(chat.lastReply).toContain('❌ 一般干部每周下基层（每周 下基层 ≥20 小时）：已 12 小时，还差 8 小时，截至11月22日');
    expect(chat.lastReply).toContain('❌ 每年志愿服务（每年 志愿服务 ≥20 小时）：已 3 小时，还差 17 小时，截至12月31日');
    expect(chat.lastReply).not.toContain('领导');
    expect(lines().at(-1)).toBe('本周还差：下基层 8 小时（截至11月22日）；本月还差：到村 7.5 天、驻村蹲点 0.5 天（截至11月30日）；'
      + '本年还差：志愿服务 17 小时、解决问题 1 件、政策宣讲 2 次（截至12月31日）');
  });

  it('counts the issues I resolved and says when my nudges are muted', async () => {
    await chat.says('u1', '/民情 石门村 道路破损 类别:基础设施 责任人:@王强 时限:12月31日', at('2026-11-17T10:00:00+08:00'));
    await chat.says('u1', '/办结 #1 路面已修复，已电话告知群众', at('2026-11-18T10:00:00+08:00'));
    expect(chat.lastReply).toContain('已办结 #1');
    await chat.says('u1', '/静音 5天');
    await chat.says('u1', '/我的');
    expect(line('本周')).toContain('解决问题 1 件');
    expect(chat.lastReply).toContain('✅ 领导每周解决问题（每周 解决问题 ≥1 件）：已 1 件');
    expect(chat.lastReply).toContain('❌ 领导每年为联系户解决问题（每年 解决问题 ≥2 件）：已 1 件，还差 1 件，截至12月31日');
    expect(chat.lastReply).toContain('（配额提醒已静音至2026年11月24日；发送 /静音 关闭 可提前恢复）');
  });
});

describe('/统计', () => {
  beforeEach(async () => {
    await chat.says('u2', '/走访 11月16日 石门村 入户 1天 走访困难户3户');
    await chat.says('u2', '/走访 11月18日 石门村二组 驻村 半天');
    await chat.says('u3', '/走访 10月20日 东关社区 宣讲 2小时', at('2026-10-21T10:00:00+08:00'));
    await chat.says('u3', '/志愿 2小时 东关社区 垃圾分类宣传');
    await chat.says('u2', '/民情 石门村 道路破损 类别:基础设施 责任人:@张三 时限:11月30日', at('2026-11-02T10:00:00+08:00'));
    await chat.says('u2', '/办结 #1 路面已修复，已电话告知群众', at('2026-11-06T10:00:00+08:00'));
    await chat.says('u2', '/评价 #1 基本满意', at('2026-11-07T10:00:00+08:00'));
    await chat.says('u3', '/民情 东关社区 路灯不亮 类别:基础设施 责任人:@李四 时限:11月10日', at('2026-11-03T10:00:00+08:00'));
  });

  it('gives the whole county this month by default for its leader', async () => {
    await chat.says('u1', '/统计');
    expect(lines()[0]).toBe('示范县（含下级单位） · 2026年11月 统计');
    expect(line('走访')).toBe('走访：2 次，共 1.5 天（12 小时），到过 2 个地点，走访群众 3 户');
    expect(line('志愿服务')).toBe('志愿服务：2 小时');
    expect(line('问题')).toBe('问题：新登记 2 件，办结 1 件，销号 0 件，逾期 1 件');
    expect(chat.lastReply).toContain('按时办结率 100%；办结用时中位数 4 天；群众评价：满意 0、基本满意 1、不满意 0（满意率 100%）');
    expect(line('覆盖')).toBe('覆盖：3 名干部中 1 名有走访（33%）');
    // Monthly rules: 3 for everyone × 3 cadres + the resident-worker rule for 张三; 张三 met 到村 1 次.
    expect(line('配额完成')).toBe('配额完成：按月考核的配额 10 项（人×规则）中已完成 1 项（10%）');
    expect(line('尚未走访')).toBe('尚未走访（2 人）：王强（示范县）、李四（东关社区）');
  });

  it('takes a month like 2026-10 and a unit name, in either order', async () => {
    await chat.says('u1', '/统计 2026-10 东关社区');
    const first = chat.lastReply;
    expect(lines()[0]).toBe('东关社区 · 2026年10月 统计');
    expect(line('走访')).toBe('走访：1 次，共 0.25 天（2 小时），到过 1 个地点，走访群众 0 户');
    expect(line('问题')).toBe('问题：新登记 0 件，办结 0 件，销号 0 件，逾期 0 件');
    expect(line('覆盖')).toBe('覆盖：1 名干部中 1 名有走访（100%）');
    expect(chat.lastReply).toContain('所有干部本期都有走访。');
    await chat.says('u1', '/stats 东关社区 2026-10');
    expect(chat.lastReply).toBe(first);
  });

  it('uses the group\'s unit and other period words', async () => {
    await chat.says('u1', '/单位 石门镇', { group: 'g-shimen' });
    await chat.says('u2', '/统计 本周', { group: 'g-shimen' });
    expect(lines()[0]).toBe('石门镇 · 2026年第47周（11月16日–11月22日） 统计');
    expect(line('走访')).toBe('走访：2 次，共 1.5 天（12 小时），到过 2 个地点，走访群众 3 户');
    expect(line('配额完成')).toBe('配额完成：按周考核的配额 1 项（人×规则）中已完成 0 项（0%）');
    await chat.says('u2', '/统计 本季', { group: 'g-shimen' });
    expect(line('配额完成')).toBe('配额完成：没有按季度考核的配额。');
  });

  it('lets staff see their own unit but not another one', async () => {
    await chat.says('u3', '/统计 本月');
    expect(lines()[0]).toBe('东关社区 · 2026年11月 统计');
    await chat.says('u3', '/统计 本月 石门镇');
    expect(chat.lastReply).toContain('您没有查看「石门镇」数据的权限');
    await chat.says('u3', '/统计 本月 示范县');
    expect(chat.lastReply).toContain('您没有查看「示范县」数据的权限');
  });

  it('explains a bad unit, a bad period and a future period', async () => {
    await chat.says('u1', '/统计 本月 火星镇');
    expect(chat.lastReply).toContain('没有名为「火星镇」的单位');
    await chat.says('u1', '/统计 下月');
    expect(chat.lastReply).toContain('2026年12月 还没有开始');
    expect(chat.lastReply).toContain('例如 /统计 2026-10');
    await chat.says('u1', '/统计 本月 石门镇 多余');
    expect(chat.lastReply).toContain('看不懂「多余」');
    expect(chat.lastReply).toContain('格式：/统计 [视图] [时段] [单位]');
  });
});

describe('/统计 after the roster changes (the roster snapshot is reread exactly when needed)', () => {
  // 张三 has the only visit this month; 3 cadres, monthly quotas 3 × 3 + 1 for the resident worker.
  beforeEach(async () => {
    await chat.says('u2', '/走访 11月16日 石门村 入户 1天 走访困难户3户');
    await chat.says('u1', '/统计');
    expect(line('覆盖')).toBe('覆盖：3 名干部中 1 名有走访（33%）');
    expect(line('配额完成')).toBe('配额完成：按月考核的配额 10 项（人×规则）中已完成 1 项（10%）');
  });

  it('sees a cadre imported, then switched off and made a resident worker behind the bot\'s back', async () => {
    const r = await importRoster(chat.db, [{ 姓名: '赵六', 手机: '13900000006', 单位: '东关社区', 职级: '一般', 驻村: '是', 账号: 'console:u6' }], 0);
    expect(r).toMatchObject({ created: 1, errors: [] });
    await chat.says('u1', '/统计');
    expect(line('覆盖')).toBe('覆盖：4 名干部中 1 名有走访（25%）');
    expect(line('配额完成')).toBe('配额完成：按月考核的配额 14 项（人×规则）中已完成 1 项（7%）');
    await setWhere(chat.db, cadres, { active: false }, { name: ['赵六', '李四'] });
    await chat.says('u1', '/统计');
    expect(line('覆盖')).toBe('覆盖：2 名干部中 1 名有走访（50%）');
    await setWhere(chat.db, cadres, { residentWorker: true }, { name: '王强' });
    await chat.says('u1', '/统计');
    expect(line('配额完成')).toBe('配额完成：按月考核的配额 8 项（人×规则）中已完成 1 项（13%）');
  });

  it('sees a change committed through another connection', async () => {
    // A second handle on the same database (file or PostgreSQL schema); closed, not dropped.
    const other = await openDb(chat.target);
    await setWhere(other, cadres, { active: false }, { name: '张三' });
    await other.close();
    await chat.says('u1', '/统计');
    expect(line('覆盖')).toBe('覆盖：2 名干部中 0 名有走访（0%）');
    expect(line('配额完成')).toBe('配额完成：按月考核的配额 6 项（人×规则）中已完成 0 项（0%）');
  });

  it('forgets what a rolled-back transaction wrote, and keeps nothing it read meanwhile', async () => {
    const county = (await rootUnits(chat.db))[0];
    const cadresNow = async (db: Db) => (await unitStats(db, county, '2026-11-01', '2026-11-30', '2026-11-20', new Map())).cadres;
    // Inside the transaction, read through its handle (on PostgreSQL the outer one would not see the write).
    await expect(chat.db.withWrite(async (tx) => {
      await setWhere(tx, cadres, { active: false }, { name: '李四' });
      expect(await cadresNow(tx)).toBe(2);
      throw new Error('roll back');
    })).rejects.toThrow('roll back');
    expect(await cadresNow(chat.db)).toBe(3);
    await chat.says('u1', '/统计');
    expect(line('覆盖')).toBe('覆盖：3 名干部中 1 名有走访（33%）');
  });
});

describe('/七问', () => {
  it('answers the seven questions for my year', async () => {
    await chat.says('u2', '/走访 11月16日 石门村 入户 1天 走访困难户3户');
    await chat.says('u2', '/走访 11月17日 石门村 驻村 2天');
    await chat.says('u2', '/走访 11月18日 石门村 1天');
    await chat.says('u2', '/走访 11月19日 石门村 座谈 2小时');
    await chat.says('u2', '/走访 今天 石门村 谈心 1小时');
    await chat.says('u2', '/走访 今天 石门村 宣讲 1小时');
    await chat.says('u2', '/民情 石门村 饮水困难 类别:基础设施 责任人:@张三 时限:12月31日', at('2026-11-02T10:00:00+08:00'));
    await chat.says('u2', '/办结 #1 已接通自来水，已电话告知群众', at('2026-11-05T10:00:00+08:00'));
    await chat.says('u2', '/评价 #1 满意', at('2026-11-06T10:00:00+08:00'));
    await chat.says('u2', '/民情 石门村 低保咨询 类别:社会保障 责任人:@李四 时限:12月31日', at('2026-11-03T10:00:00+08:00'));
    await chat.says('u2', '/七问');
    expect(chat.lastReply).toBe([
      '张三 2026年「七问」自查（截至2026年11月20日）：',
      '一问 一年下过几次乡：6 次（共 4.5 天）',
      '二问 进过几次村：2 次（到村/社区 1，驻村蹲点 1）',
      '三问 入过几次户：1 次，走访群众 3 户',
      '四问 了解多少情况：登记民情 2 件',
      '五问 解决了多少问题：作为责任人办结 1 件',
      '六问 听了多少社情民意：调研座谈 1 次、谈心谈话 1 次，共 2 次',
      '七问 面对群众脸上有没有笑容：群众评价 满意 1、基本满意 0、不满意 0（满意率 100%）',
    ].join('\n'));
  });

  it('takes another year and refuses one that has not begun', async () => {
    await chat.says('u2', '/走访 今天 石门村 1天');
    await chat.says('u2', '/七问 2025');
    expect(lines()[0]).toBe('张三 2025年「七问」自查：');
    expect(line('一问')).toBe('一问 一年下过几次乡：0 次（共 0 天）');
    expect(line('七问')).toBe('七问 面对群众脸上有没有笑容：还没有群众对您负责的问题作出评价');
    await chat.says('u2', '/review 今年');
    expect(line('一问')).toBe('一问 一年下过几次乡：1 次（共 1 天）');
    await chat.says('u2', '/七问 明年');
    expect(chat.lastReply).toContain('2027年 还没有开始');
    await chat.says('u2', '/七问 十一月');
    expect(chat.lastReply).toContain('看不懂「十一月」');
    expect(chat.lastReply).toContain('格式：/七问 [年份]');
  });
});

describe('/静音', () => {
  const mutedUntil = async () => (await oneWhere(chat.db, cadres, { name: '张三' }))!.mutedUntil;

  it('pauses my quota nudges for some days, until a date, and switches back on', async () => {
    await chat.says('u2', '/静音 3天');
    expect(chat.lastReply).toBe('已静音配额提醒 3 天，至2026年11月22日（含），2026年11月23日起恢复。问题时限提醒照常发送。发送 /静音 关闭 可提前恢复。');
    expect(await mutedUntil()).toBe('2026-11-22');
    await chat.says('u2', '/静音');
    expect(chat.lastReply).toContain('配额提醒已静音至2026年11月22日（含）');
    await chat.says('u2', '/mute 至12月5日');
    expect(await mutedUntil()).toBe('2026-12-05');
    expect(chat.lastReply).toContain('已静音配额提醒 16 天');
    await chat.says('u2', '/静音 两周');
    expect(await mutedUntil()).toBe('2026-12-03');
    await chat.says('u2', '/静音 关闭');
    expect(chat.lastReply).toBe('已恢复配额提醒。');
    expect(await mutedUntil()).toBeNull();
    await chat.says('u2', '/静音 关闭');
    expect(chat.lastReply).toBe('配额提醒本来就在正常发送，无需恢复。');
  });

  it('allows at most 30 days and no past date', async () => {
    await chat.says('u2', '/静音 30天');
    expect(await mutedUntil()).toBe('2026-12-19');
    await chat.says('u2', '/静音 31天');
    expect(chat.lastReply).toBe('静音最多30天，您写的是31天。请写 1–30 天，例如 /静音 3天 或 /静音 至12月5日');
    await chat.says('u2', '/静音 至2027-01-10');
    expect(chat.lastReply).toContain('静音最多30天，您写的是52天');
    await chat.says('u2', '/静音 至2026-11-01');
    expect(chat.lastReply).toContain('2026年11月1日 已经过去');
    await chat.says('u2', '/静音 很久');
    expect(chat.lastReply).toContain('看不懂「很久」');
    expect(chat.lastReply).toContain('例如：/静音 3天');
    expect(await mutedUntil()).toBe('2026-12-19');
  });
});

describe('/配额', () => {
  it('lists the rules with ids and on/off', async () => {
    await chat.says('u1', '/配额');
    expect(lines()[0]).toBe('配额规则（共 14 条，启用 14 条；✅ 启用　⏸ 停用）：');
    expect(chat.lastReply).toContain('【文旅局“联户联情”工作方案】\n#1 ✅ 每月到村开展工作：全体干部 每月 到村走访 ≥1 次（到村、驻村蹲点、入户均计）（三）');
    expect(chat.lastReply).not.toMatch(/\d{3} §/);
    expect(chat.lastReply).toContain('#3 ✅ 驻村帮扶干部每月在村天数：驻村帮扶干部 每月 到村 ≥10 天');
    expect(chat.lastReply).toContain('【长乐山工业园区关于开展党员干部下基层察民情解民忧暖民心实践活动实施方案】');
    expect(chat.lastReply).toContain('#9 ✅ 一般干部每周下基层：一般干部 每周 下基层 ≥20 小时（三（一））');
    expect(chat.lastReply).toContain('#14 ✅ 领导每年谈心谈话：领导干部 每年 谈心谈话 ≥4 次（四（十））');
  });

  it('switches a rule off and on, and the rule stops counting meanwhile', async () => {
    await chat.says('u1', '/配额 停用 9');
    expect(chat.lastReply).toBe('已停用规则 #9 一般干部每周下基层。不再计入统计和提醒；规则保留，可随时 /配额 启用 9。');
    await chat.says('u1', '/配额');
    expect(lines()[0]).toBe('配额规则（共 14 条，启用 13 条；✅ 启用　⏸ 停用）：');
    expect(chat.lastReply).toContain('#9 ⏸ 一般干部每周下基层');
    await chat.says('u3', '/我的');
    expect(chat.lastReply).not.toContain('一般干部每周下基层');
    await chat.says('u1', '/配额 停用 9');
    expect(chat.lastReply).toBe('规则 #9 已经是停用状态，无需操作。');
    await chat.says('u1', '/配额 启用 #9');
    expect(chat.lastReply).toContain('已启用规则 #9');
    await chat.says('u1', '/配额 停用 99');
    expect(chat.lastReply).toContain('没有编号为 #99 的配额规则');
    await chat.says('u1', '/配额 停用');
    expect(chat.lastReply).toContain('请写要停用的规则编号，例如 /配额 停用 3');
  });

  it('adds a rule that then applies', async () => {
    await chat.says('u1', '/配额 新增 指标:走访天数 周期:月 阈值:2 职级:领导 类型:驻村 名称:领导每月驻村');
    expect(chat.lastReply).toBe('已新增配额规则 #15 领导每月驻村：领导干部 每月 驻村蹲点 ≥2 天。从现在起计入 /我的、/统计 和提醒。');
    const { name, metric, filter, period, threshold, active, preset, source } = (await oneWhere(chat.db, quotaRules, { id: 15 }))!;
    expect({ name, metric, filter, period, threshold, active, preset, source })
      .toEqual({ name: '领导每月驻村', metric: 'visit_days', filter: '{"rank":"leader","kinds":["residency"]}', period: 'month', threshold: 2, active: true, preset: null, source: '自定义' });
    await chat.says('u1', '/走访 今天 石门村 驻村 1天');
    await chat.says('u1', '/我的');
    expect(chat.lastReply).toContain('❌ 领导每月驻村（每月 驻村蹲点 ≥2 天）：已 1 天，还差 1 天，截至11月30日');
    await chat.says('u1', '/配额 新增 指标：志愿小时\n周期：季度\n阈值：5\n驻村：是');
    expect(chat.lastReply).toBe('已新增配额规则 #16 驻村帮扶干部每季度志愿服务5小时：驻村帮扶干部 每季度 志愿服务 ≥5 小时。从现在起计入 /我的、/统计 和提醒。');
  });

  it('validates every field of a new rule and names the expected values', async () => {
    await chat.says('u1', '/配额 新增 指标:走访天 周期:月 阈值:2');
    expect(chat.lastReply).toContain('「走访天」不是可选的指标（可选：走访次数、走访天数、走访小时、走访地点数、走访户数、志愿小时、解决问题、宣讲次数、谈心谈话）');
    expect(chat.lastReply).toContain('例如：/配额 新增 指标:走访天数 周期:月 阈值:2');
    await chat.says('u1', '/配额 新增 指标:走访天数 周期:半年 阈值:2');
    expect(chat.lastReply).toContain('「半年」不是可选的周期');
    await chat.says('u1', '/配额 新增 指标:走访天数 周期:月 阈值:-1');
    expect(chat.lastReply).toContain('「-1」不是 0.01–100000 之间的数');
    await chat.says('u1', '/配额 新增 指标:走访天数 周期:月 阈值:2 职级:处长');
    expect(chat.lastReply).toContain('「处长」不是可选的职级');
    await chat.says('u1', '/配额 新增 指标:走访天数 周期:月 阈值:2 类型:开会');
    expect(chat.lastReply).toContain('「开会」不是走访类型（可选：入户、到村、驻村、企业、座谈、宣讲、谈心、其他');
    await chat.says('u1', '/配额 新增 指标:志愿小时 周期:年 阈值:20 类型:驻村');
    expect(chat.lastReply).toContain('类型只对走访类指标');
    await chat.says('u1', '/配额 新增 指标:走访天数');
    expect(chat.lastReply).toContain('新增配额缺少周期、阈值');
    expect(chat.lastReply).toContain('周期可选：周、月、季度、年');
    expect(await chat.count('quotaRules')).toBe(14);
  });

  it('lists the preset documents by title and installs the ones a deployment follows, idempotently, for administrators only', async () => {
    // Plain SQL both dialects read alike (db-probe has no delete).
    await chat.db.run('DELETE FROM quota_rules');
    await chat.says('u1', '/配额 预设');
    expect(chat.lastReply).toBe([
      '可安装的预设配额（按文件规定分组，只安装本地执行的文件）：',
      '1. 联户联情：《文旅局“联户联情”工作方案》，8 条规则',
      '2. 走基层：《走基层制度化常态化实施意见》，2 条规则',
      '3. 长乐山工业园区：《长乐山工业园区关于开展党员干部下基层察民情解民忧暖民心实践活动实施方案》，4 条规则',
      '安装：/配额 预设 联户联情 或 /配额 预设 1；安装全部：/配额 预设 全部。不执行的规则可 /配额 停用 编号。',
    ].join('\n'));
    expect(await chat.count('quotaRules')).toBe(0);
    await chat.says('u1', '/配额 预设 联户联情');
    expect(chat.lastReply).toBe('已安装《文旅局“联户联情”工作方案》的预设配额 8 条：新增 8 条，恢复 0 条，其余不变。发送 /配额 查看全部规则。');
    expect(await chat.count('quotaRules')).toBe(8);
    // A staff member of this county is nudged about 联户联情 only, not an industrial park's weekly 20 hours.
    await chat.says('u3', '/我的');
    expect(chat.lastReply).toContain('每月到村开展工作');
    expect(chat.lastReply).not.toContain('一般干部每周下基层');
    await chat.says('u1', '/配额 预设 2');
    expect(chat.lastReply).toBe('已安装《走基层制度化常态化实施意见》的预设配额 2 条：新增 2 条，恢复 0 条，其余不变。发送 /配额 查看全部规则。');
    await chat.says('u1', '/配额 预设');
    expect(chat.lastReply).toContain('1. 联户联情：《文旅局“联户联情”工作方案》，8 条规则（已启用 8 条）');
    expect(chat.lastReply).toContain('3. 长乐山工业园区：《长乐山工业园区关于开展党员干部下基层察民情解民忧暖民心实践活动实施方案》，4 条规则\n');
    await chat.says('u1', '/配额');
    expect(chat.lastReply).not.toContain('【长乐山工业园区');
    expect(chat.lastReply).toMatch(/【走基层制度化常态化实施意见】\n#\d+ ✅ 驻村帮扶干部每月在村天数：.*（二（2））\n/);
    await chat.says('u1', '/配额 预设 9');
    expect(chat.lastReply).toContain('没有第 9 号预设文件');
    await chat.says('u1', '/配额 预设 全部');
    expect(chat.lastReply).toBe('已安装《文旅局“联户联情”工作方案》、《走基层制度化常态化实施意见》、《长乐山工业园区关于开展党员干部下基层察民情解民忧暖民心实践活动实施方案》的预设配额 14 条：新增 4 条，恢复 0 条，其余不变。发送 /配额 查看全部规则。');
    await chat.says('u1', '/配额 预设 全部');
    expect(chat.lastReply).toContain('新增 0 条，恢复 0 条');
    expect(await chat.count('quotaRules')).toBe(14);
    await chat.says('u2', '/配额 预设 联户联情');
    expect(chat.lastReply).toContain('/配额 只有管理员可以使用');
    await chat.says('u2', '/配额 停用 1');
    expect(chat.lastReply).toContain('/配额 只有管理员可以使用');
    expect(await chat.count('quotaRules', { active: true })).toBe(14);
  });
});

describe('/统计 覆盖 and /统计 图', () => {
  it('answers coverage as text and the charts as images, from the same command', async () => {
    const chat = await Chat.demo();
    try {
      await chat.says('u2', '/走访 昨天 石门村 入户 1天');
      await chat.says('u1', '/统计 覆盖');
      expect(chat.lastReply).toContain('李四');
      await chat.says('u1', '/统计 图 石门镇');
      expect(chat.replies.length).toBe(3);
      expect(chat.replies.every((r) => r.image?.endsWith('.png'))).toBe(true);
      await chat.says('u3', '/统计 覆盖 石门镇');
      expect(chat.lastReply).toContain('没有查看「石门镇」数据的权限');
    } finally {
      await chat.close();
    }
  });
});
