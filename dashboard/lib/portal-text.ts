// The residents' portal speaks plainly, Chinese first: short sentences, one word for one thing —
// always 领取资格确认 (never 认证/核验/生存认证 side by side), always 待遇 for the money.
export type PortalLang = 'zh' | 'en';
export const PORTAL_LANG_COOKIE = 'yinling_portal_lang';
export const PORTAL_SIZE_COOKIE = 'yinling_portal_size';
/** The human phone line on every page. */
export const HELP_PHONE = '12333';

const zh = {
  site: '银龄 · 居民服务',
  help: '有问题请打人工电话',
  langSwitch: 'English',
  sizeLarge: '大字',
  sizeStandard: '标准字',
  signInTitle: '登录',
  signInIntro: '用身份证号和手机短信验证码登录，不需要密码。',
  idLabel: '身份证号码',
  idHint: '18位，最后一位可能是 X',
  sendCode: '发送验证码',
  codeSent: '验证码已发到尾号 {phone} 的手机，{minutes} 分钟内有效。',
  codeLabel: '短信验证码（6位数字）',
  signIn: '登录',
  resend: '重新发送验证码',
  resendWait: '{seconds} 秒后可以重新发送。',
  changeId: '换一个身份证号',
  demoOutbox: '演示系统：短信不会真的发出。验证码可以在电脑上运行 yinling sms outbox 查看。',
  noPhone: '这个身份证号没有登记手机号，无法发送验证码。请打 {phone}，或到社区服务站办理。',
  tooSoon: '验证码刚刚发过，请稍等 {seconds} 秒再重新发送。',
  locked: '验证码输错次数太多，请在 {time} 之后再试。',
  wrongCode: '验证码不对，请再看一下短信。还可以再试 {n} 次。',
  expiredCode: '验证码已经过期或已用过，请重新发送。',
  signOut: '退出登录',
  hello: '{name}，您好',
  cardTitle: '我的领取资格确认',
  certified: '您的领取资格已经确认，有效期到 {date}。',
  certifiedNext: '现在不需要做任何事。',
  due: '您的领取资格确认还有 {days} 天到期（{date}）。',
  dueNext: '请在到期前确认一次：用手机刷脸，或到社区服务站。',
  lapsed: '您的领取资格还没有确认。',
  lapsedSuspended: '因为没有确认，待遇从 {date} 起暂停发放。确认以后会恢复发放。',
  lapsedNext: '请尽快确认：用手机刷脸，或到社区服务站，也可以打电话请工作人员上门。',
  negative: '我们收到了一条关于您的记录，需要工作人员核实。',
  negativeNext: '请打 {phone}，或到社区服务站，我们会尽快处理。',
  howToConfirm: '怎样确认领取资格',
  waysTitle: '确认领取资格的三种办法',
  wayFace: '用手机刷脸：打开政务服务APP，找到“领取资格确认”，按提示刷脸。',
  wayOffice: '到社区服务站：带上身份证，工作人员帮您办理。',
  wayVisit: '请工作人员上门：行动不便的，打 {phone} 预约。',
  whyTitle: '是什么确认了您的资格',
  whyIntro: '我们没有打扰您，是根据下面这些记录确认的：',
  whyNone: '目前没有能确认您资格的记录。',
  fromSource: '来源：{source}',
  methodSilent: '系统根据您的日常记录自动确认',
  methodExplicit: '您本人办理的确认',
  benefitsTitle: '我的待遇',
  monthly: '每月 {amount} 元',
  suspended: '暂停发放',
  lastPayment: '最近一次发放：{period} 的 {scheme}，{amount} 元，{date} 到账。',
  noPayment: '还没有发放记录。',
  notFound: '没有找到您的登记信息，请打 {phone}。',
  backHome: '回到首页',
  menuTitle: '我还可以',
  navPayments: '每个月发了多少钱',
  navSubsidies: '我可以申请的补贴',
  navCheckups: '预约免费体检',
  navReportDeath: '报告家人去世',
  paymentsTitle: '我的待遇发放',
  paymentsIntro: '最近12个月，每个月发了多少钱、哪天到账。',
  paidLine: '{amount} 元，{date} 到账',
  notPaidLine: '{amount} 元，没有到账',
  changeNew: '这个月开始发放这项待遇。',
  changeResumed: '暂停以后，这个月恢复发放。',
  changeUp: '比上个月多 {diff} 元：待遇标准调整了。',
  changeDown: '比上个月少 {diff} 元：待遇标准调整了。有疑问请打 {phone}。',
  notPaid: '这笔钱被银行退回，没有到账。我们会核实后重新发放，有疑问请打 {phone}。',
  suspendedFrom: '从 {month} 起暂停发放。',
  reasonNotCertified: '原因：领取资格没有确认。确认以后会恢复发放。',
  reasonBank: '原因：银行账户不能用。请带身份证和银行卡到社区服务站更新账户。',
  reasonOther: '想知道原因，请打 {phone}。',
  noPayments: '最近12个月没有发放记录。'
};
type Key = keyof typeof zh;

const en: Record<Key, string> = {
  site: 'Yinling · Residents',
  help: 'Questions? Call a person on',
  langSwitch: '中文',
  sizeLarge: 'Large text',
  sizeStandard: 'Standard text',
  signInTitle: 'Sign in',
  signInIntro: 'Sign in with your ID number and a code we text to your phone. No password.',
  idLabel: 'ID number',
  idHint: '18 characters; the last may be X',
  sendCode: 'Send me a code',
  codeSent: 'We texted a code to your phone ending {phone}. It works for {minutes} minutes.',
  codeLabel: 'Code from the text message (6 digits)',
  signIn: 'Sign in',
  resend: 'Send a new code',
  resendWait: 'You can ask for a new code in {seconds} seconds.',
  changeId: 'Use another ID number',
  demoOutbox: 'Demo system: no text is really sent. Run yinling sms outbox on the server to see the code.',
  noPhone: 'No phone number is registered for this ID number, so we cannot text a code. Call {phone} or visit your community office.',
  tooSoon: 'We just sent a code. Please wait {seconds} seconds before asking for a new one.',
  locked: 'Too many wrong codes. Please try again after {time}.',
  wrongCode: 'That code is not right. Please check the text message. {n} tries left.',
  expiredCode: 'This code has expired or was used already. Please ask for a new one.',
  signOut: 'Sign out',
  hello: 'Hello, {name}',
  cardTitle: 'My entitlement check',
  certified: 'Your entitlement is confirmed until {date}.',
  certifiedNext: 'You do not need to do anything now.',
  due: 'Your entitlement check ends in {days} days ({date}).',
  dueNext: 'Please confirm before then: by face on your phone, or at your community office.',
  lapsed: 'Your entitlement has not been confirmed.',
  lapsedSuspended: 'Because it was not confirmed, payments are paused since {date}. They start again once you confirm.',
  lapsedNext: 'Please confirm soon: by face on your phone, at your community office, or ask us to visit you.',
  negative: 'We received a record about you that our staff must check.',
  negativeNext: 'Please call {phone} or visit your community office. We will sort it out quickly.',
  howToConfirm: 'How to confirm',
  waysTitle: 'Three ways to confirm your entitlement',
  wayFace: 'By face on your phone: open the government services app, find “entitlement check” and follow the steps.',
  wayOffice: 'At your community office: bring your ID card; staff will help you.',
  wayVisit: 'Ask us to visit: if you cannot get out, call {phone} to book a home visit.',
  whyTitle: 'What confirmed your entitlement',
  whyIntro: 'We did not bother you. These records confirmed it:',
  whyNone: 'We have no record that confirms your entitlement yet.',
  fromSource: 'From: {source}',
  methodSilent: 'Confirmed automatically from your everyday records',
  methodExplicit: 'Confirmed by you in person',
  benefitsTitle: 'My benefits',
  monthly: '{amount} yuan a month',
  suspended: 'paused',
  lastPayment: 'Last payment: {scheme} for {period}, {amount} yuan, arrived {date}.',
  noPayment: 'No payment yet.',
  notFound: 'We could not find your registration. Please call {phone}.',
  backHome: 'Back to my page',
  menuTitle: 'I can also',
  navPayments: 'See what was paid each month',
  navSubsidies: 'See subsidies I may claim',
  navCheckups: 'Book a free health checkup',
  navReportDeath: 'Report the death of a family member',
  paymentsTitle: 'My payments',
  paymentsIntro: 'What was paid in each of the last 12 months, and when it arrived.',
  paidLine: '{amount} yuan, arrived {date}',
  notPaidLine: '{amount} yuan, did not arrive',
  changeNew: 'This payment started this month.',
  changeResumed: 'Paid again this month after a pause.',
  changeUp: '{diff} yuan more than the month before: the benefit rate went up.',
  changeDown: '{diff} yuan less than the month before: the benefit rate changed. Questions? Call {phone}.',
  notPaid: 'The bank sent this payment back. We will check and pay it again. Questions? Call {phone}.',
  suspendedFrom: 'Paused since {month}.',
  reasonNotCertified: 'Why: your entitlement has not been confirmed. Payments start again once you confirm.',
  reasonBank: 'Why: the bank account cannot be used. Bring your ID card and bank card to your community office to update it.',
  reasonOther: 'To find out why, call {phone}.',
  noPayments: 'No payments in the last 12 months.'
};

export function pt(lang: PortalLang, key: Key, vars: Record<string, string | number> = {}): string {
  const text = (lang === 'en' ? en : zh)[key];
  return text.replace(/\{(\w+)\}/g, (_m, k: string) => String(vars[k] ?? ''));
}

/** 2026-09-03 → 2026年9月3日 / 3 Sep 2026 */
export function portalDate(iso: string | null, lang: PortalLang): string {
  if (!iso) return '';
  const [y, m, d] = iso.split('-').map(Number);
  if (lang === 'zh') return d ? `${y}年${m}月${d}日` : `${y}年${m}月`;
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][m - 1];
  return d ? `${d} ${month} ${y}` : `${month} ${y}`;
}

/** Exact money from PostgreSQL numeric text: '12345.6' → '12,345.60' (no floating point on the way). */
export function yuan(v: string | null | undefined): string {
  if (v == null || v === '') return '';
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(v.trim());
  if (!m) return v;
  const int = m[2].replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${m[1]}${int}.${((m[3] ?? '') + '00').slice(0, 2)}`;
}
