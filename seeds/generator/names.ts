// Chinese name material for the synthetic city 越州市: surnames with rough frequencies, given-name
// characters by sex, district / town / community names, hospitals, places outside the city.
import type { Rng } from './rng.ts';

// Surnames with weights roughly following national frequency (王李张刘陈 most common).
const SURNAMES: [string, number][] = [
  ['王', 72],
  ['李', 71],
  ['张', 68],
  ['刘', 53],
  ['陈', 50],
  ['杨', 35],
  ['黄', 25],
  ['赵', 24],
  ['吴', 23],
  ['周', 22],
  ['徐', 17],
  ['孙', 16],
  ['马', 15],
  ['朱', 14],
  ['胡', 13],
  ['郭', 12],
  ['何', 12],
  ['高', 12],
  ['林', 11],
  ['罗', 10],
  ['郑', 10],
  ['梁', 9],
  ['谢', 8],
  ['宋', 7],
  ['唐', 7],
  ['许', 7],
  ['韩', 6],
  ['冯', 6],
  ['邓', 6],
  ['曹', 6],
  ['彭', 5],
  ['曾', 5],
  ['肖', 5],
  ['田', 5],
  ['董', 5],
  ['袁', 5],
  ['潘', 4],
  ['于', 4],
  ['蒋', 4],
  ['蔡', 4],
  ['余', 4],
  ['杜', 4],
  ['叶', 4],
  ['程', 4],
  ['苏', 4],
  ['魏', 4],
  ['吕', 4],
  ['丁', 4],
  ['任', 4],
  ['沈', 6],
  ['姚', 3],
  ['卢', 3],
  ['姜', 3],
  ['崔', 3],
  ['钟', 3],
  ['谭', 3],
  ['陆', 3],
  ['汪', 3],
  ['范', 3],
  ['金', 4],
  ['石', 3],
  ['廖', 3],
  ['贾', 3],
  ['夏', 3],
  ['韦', 2],
  ['方', 3],
  ['白', 2],
  ['邹', 2],
  ['孟', 2],
  ['熊', 2],
  ['秦', 2],
  ['邱', 2],
  ['江', 2],
  ['尹', 2],
  ['薛', 2],
  ['闫', 2],
  ['段', 2],
  ['雷', 2],
  ['侯', 2],
  ['龙', 2],
  ['史', 2],
  ['陶', 2],
  ['黎', 2],
  ['贺', 2],
  ['顾', 2],
  ['毛', 2],
  ['郝', 2],
  ['龚', 2],
  ['邵', 2],
  ['万', 2],
  ['钱', 2],
  ['严', 2],
  ['章', 2],
  ['武', 2],
  ['戴', 2],
  ['莫', 1],
  ['孔', 1],
  ['俞', 2],
  ['楼', 1],
  ['诸葛', 0.3],
  ['欧阳', 0.3],
  ['司马', 0.1],
  ['上官', 0.1]
];

const MALE = '伟强军平国建华明志勇文德林海峰俊杰波斌辉刚健荣福贵宝金根祥发忠良兴庆永春生才水荣保家成中新宏亮东龙涛洪清光义孝培炳灿樟土松柏';
const FEMALE = '秀英芳娟敏静丽玲华兰珍凤霞梅琴萍红艳燕美莲菊桂花云玉翠月雪慧素彩爱淑巧婷琳芬娣仙娥妹香';

/** A realistic two- or three-character name. Older people get more traditional characters (same pools). */
export function personName(rng: Rng, sex: 'M' | 'F'): string {
  const surname = rng.weighted(SURNAMES);
  const pool = sex === 'M' ? MALE : FEMALE;
  const one = pool[rng.int(0, pool.length - 1)];
  if (rng.chance(0.22)) return surname + one;
  let two = pool[rng.int(0, pool.length - 1)];
  if (two === one && rng.chance(0.7)) two = pool[rng.int(0, pool.length - 1)];
  return surname + one + two;
}

/**
 * Names with characters that exist in GB18030 but not in GBK (CJK Extension A, four-byte in GB18030),
 * and minority names with the middle dot. Planted into a GB18030 persons file so a decoder that
 * treats the file as GBK is caught.
 */
export const RARE_NAMES: readonly { name: string; sex: 'M' | 'F' }[] = [
  { name: '刘䶮', sex: 'M' },
  { name: '王㛃', sex: 'F' },
  { name: '买买提·吐尔逊', sex: 'M' },
  { name: '陈㵘华', sex: 'M' }
];

export const CITY = { code: '330600000000', name: '越州市' };

export const DISTRICT_NAMES = [
  '越城区',
  '柯桥区',
  '上虞区',
  '镜湖区',
  '滨海区',
  '兰亭区',
  '鉴湖区',
  '会稽区',
  '若耶区',
  '东浦区',
  '稽山区',
  '曹娥区'
];

const TOWN_STEMS = [
  '府山',
  '北海',
  '塔山',
  '城南',
  '稽山',
  '迪荡',
  '灵芝',
  '东湖',
  '皋埠',
  '陶堰',
  '富盛',
  '马山',
  '孙端',
  '斗门',
  '柯岩',
  '华舍',
  '齐贤',
  '安昌',
  '钱清',
  '福全',
  '杨汛桥',
  '平水',
  '漓渚',
  '王坛',
  '稽东',
  '夏履',
  '百官',
  '曹娥',
  '崧厦',
  '丰惠',
  '汤浦',
  '章镇',
  '小越',
  '驿亭',
  '梁湖',
  '盖北',
  '沥海',
  '道墟',
  '长塘',
  '永和',
  '岭南',
  '下管',
  '陈溪',
  '东关',
  '谢塘',
  '丁宅',
  '盖东',
  '松厦',
  '湖塘',
  '兰亭',
  '鉴湖',
  '马鞍',
  '党山',
  '坎山',
  '瓜沥',
  '衙前',
  '义桥',
  '河上',
  '戴村',
  '浦阳',
  '所前',
  '进化',
  '楼塔',
  '临浦',
  '东浦',
  '孙家',
  '双梅',
  '天乐',
  '大唐',
  '枫桥',
  '店口',
  '牌头',
  '次坞',
  '五泄',
  '赵家',
  '应店',
  '同山',
  '安华',
  '璜山',
  '陈宅',
  '街亭',
  '东和',
  '岭北',
  '马剑',
  '草塔',
  '山下湖',
  '王家井',
  '浬浦',
  '东白湖',
  '暨阳',
  '浣东',
  '陶朱',
  '浣江',
  '姚江',
  '白峰',
  '长乐'
];

const COMMUNITY_A = '东西南北新春和平安康福兴华光明阳湖山水桥塘溪江河园苑城府里坊锦绣金玉翠竹梅兰菊荷莲桂松柏枫柳杏桃樱';
const COMMUNITY_B = ['苑', '里', '园', '坊', '湾', '桥', '塘', '岸', '庭', '城', '街', '港', '湖', '村', '坞', '畈'];

export function townName(i: number): string {
  const stem = TOWN_STEMS[i % TOWN_STEMS.length];
  const round = Math.floor(i / TOWN_STEMS.length);
  const base = round === 0 ? stem : stem + ['新', '东', '西'][(round - 1) % 3];
  return base + (i % 3 === 0 ? '镇' : '街道');
}

/** A community name unique within the town (callers pass a per-town set). */
export function communityName(rng: Rng, used: Set<string>, rural: boolean): string {
  for (let attempt = 0; attempt < 200; attempt++) {
    const a = COMMUNITY_A[rng.int(0, COMMUNITY_A.length - 1)];
    const b = rural ? COMMUNITY_A[rng.int(0, COMMUNITY_A.length - 1)] : rng.pick(COMMUNITY_B);
    if (a === b) continue;
    const name = a + b + (rural ? '村' : '社区');
    if (!used.has(name)) {
      used.add(name);
      return name;
    }
  }
  const name = `第${used.size + 1}${rural ? '村' : '社区'}`;
  used.add(name);
  return name;
}

export const OUTSIDE_PLACES: readonly [string, number][] = [
  ['上海市', 30],
  ['杭州市', 25],
  ['北京市', 8],
  ['深圳市', 8],
  ['宁波市', 10],
  ['南京市', 5],
  ['苏州市', 5],
  ['加拿大温哥华', 3],
  ['美国旧金山', 2],
  ['澳大利亚悉尼', 2],
  ['日本东京', 1],
  ['新加坡', 1],
  ['英国伦敦', 1]
];

export const CITY_HOSPITALS = ['越州市人民医院', '越州市中医院', '越州市第二医院', '越州大学附属医院', '越州市妇幼保健院'];

export const BUS_LINES = ['1路', '3路', '8路', '12路', '25路', 'BRT1号线', 'BRT2号线', '108路', '地铁1号线'];
export const RAIL_TRIPS = ['越州北→杭州东', '越州→上海虹桥', '越州北→宁波', '杭州东→越州北', '上海虹桥→越州北'];
export const PHARMACIES = ['老百姓大药房', '同仁堂药店', '震元堂', '天天好大药房', '社区便民药房'];
