// Traditional -> Simplified for the characters consumers of a deals platform actually type
// (accounts, orders, coupons, refunds, complaints, food, everyday words). Not a full OpenCC
// table: enough to match one lexicon against both scripts and to tell the scripts apart.
const TRADITIONAL = '萬與專業東絲兩嚴個豐臨為麗舉麼義烏樂習鄉書買亂爭虧雲亞產親億僅從倉儀們價眾優會傘偉傳傷倫偽體餘來係倆債傾儲兒兌黨蘭關興養內冊寫軍農衝決況凍淨準涼減幾鳳憑凱擊劃劉則剛創刪別劑劇勸辦務動勵勞勢勻匯區醫華協單賣衛卻廠廳歷厲壓厭廁縣參雙發變疊葉號嘆吳嗎啟員響啞噸聽嚇嗚團園圍國圖圓聖場壞塊堅墊執報聲殼處備復夠頭誇夾奪獎婦媽孫學寧寶實審宮寬賓對尋導壽將爾塵嘗嚐層屆屬歲島幣師帳帶幫幹乾並廣莊慶庫應廢開異棄張彎彈強歸當錄徹徑後憶懷態總戀惡噁惱悶驚慘憂懶戰戲戶撲擴掃揚擾撫拋搶護擔擬擁攔撥擇掛撈損撿換據擲擺搖攜攝敵數斷無舊時顯晉曬曉暫術機殺雜權條楊極構櫃檸標樣檔橋檢樓欄歡歐殘毀畢氣漢湯溝沒淚潔灑濃漲濕溫滅燈災爐點爛熱煩燒營爺牽狀獨貓獻環現電畫療瘋癢皺盤監蓋盜睏礦碼確礙禮禍離種積稱穩窮競筆節範簡籃類糧糾紅約級紀紙細終組結給絡統絕經綁綠維緊線練緣編緩縮績繼續網羅聯職聞膚腦腳臉膽艱藝蘇藥薦蘋蝦蟲補裝製複見規視覺覽觀觸計訂認討讓訓議記講許論設訪證評識詞譯試誠話該詳語誤說請讀課誰調談謝謊謹譽貝負財責貨販貪購貴費貼資賊賬賠賭質賴贈贊讚趕躍車軟轉輪輕載輸辭邊達遷過運還這進遠違連遲適選遞遺鄰醜釋裡裏鐘鋼錢鐵銀鋪鏈銷鎖錯鍵鑰長門閃閉問閒間閱闊闖隊陽陰階際陸陳隨險隱難雞雖靜頁頂項順須預領頻題額顏願顧風飛飯飲飽餅館餓馬駛驗騙騎驅髮鬆鬥鬧魚鮮鳥鴨麥黃齊齒龍週麵臺檯僱儘盡滷郵註訊髒臟喫隻衹祇鹹燙餵兇鈔劵誌惟綫彙漁蘿蔔燉餚鍋飪廚櫥壺糰歎嘍嗆嚕噴瑣癮蕩鬱驢鬍騷謀詐瞞矇賺虛偵顛僞儅釐擠搾傑摺誒囉謠頓顆穀絨繳紹纜罰稅緻繫貸賀賞賽贏趨軌輛輯轄轟辯鄧醬釣鈴鉤銳鋁錶鍛鏡闆闡陝隸雛霧靈韓頸頰顫颳颱飄餡饞駕駐驕騰驟髖鬢魯鯉鴿鵝鶴鷹鹽黴鼴齡龔訴夥紮鬨墮蘆燜餃飩滿躉嶄縫綢褲襖鞦韆';
const SIMPLIFIED = '万与专业东丝两严个丰临为丽举么义乌乐习乡书买乱争亏云亚产亲亿仅从仓仪们价众优会伞伟传伤伦伪体余来系俩债倾储儿兑党兰关兴养内册写军农冲决况冻净准凉减几凤凭凯击划刘则刚创删别剂剧劝办务动励劳势匀汇区医华协单卖卫却厂厅历厉压厌厕县参双发变叠叶号叹吴吗启员响哑吨听吓呜团园围国图圆圣场坏块坚垫执报声壳处备复够头夸夹夺奖妇妈孙学宁宝实审宫宽宾对寻导寿将尔尘尝尝层届属岁岛币师账带帮干干并广庄庆库应废开异弃张弯弹强归当录彻径后忆怀态总恋恶恶恼闷惊惨忧懒战戏户扑扩扫扬扰抚抛抢护担拟拥拦拨择挂捞损捡换据掷摆摇携摄敌数断无旧时显晋晒晓暂术机杀杂权条杨极构柜柠标样档桥检楼栏欢欧残毁毕气汉汤沟没泪洁洒浓涨湿温灭灯灾炉点烂热烦烧营爷牵状独猫献环现电画疗疯痒皱盘监盖盗困矿码确碍礼祸离种积称稳穷竞笔节范简篮类粮纠红约级纪纸细终组结给络统绝经绑绿维紧线练缘编缓缩绩继续网罗联职闻肤脑脚脸胆艰艺苏药荐苹虾虫补装制复见规视觉览观触计订认讨让训议记讲许论设访证评识词译试诚话该详语误说请读课谁调谈谢谎谨誉贝负财责货贩贪购贵费贴资贼账赔赌质赖赠赞赞赶跃车软转轮轻载输辞边达迁过运还这进远违连迟适选递遗邻丑释里里钟钢钱铁银铺链销锁错键钥长门闪闭问闲间阅阔闯队阳阴阶际陆陈随险隐难鸡虽静页顶项顺须预领频题额颜愿顾风飞饭饮饱饼馆饿马驶验骗骑驱发松斗闹鱼鲜鸟鸭麦黄齐齿龙周面台台雇尽尽卤邮注讯脏脏吃只只只咸烫喂凶钞券志唯线汇渔萝卜炖肴锅饪厨橱壶团叹喽呛噜喷琐瘾荡郁驴胡骚谋诈瞒蒙赚虚侦颠伪当厘挤榨杰折诶啰谣顿颗谷绒缴绍缆罚税致系贷贺赏赛赢趋轨辆辑辖轰辩邓酱钓铃钩锐铝表锻镜板阐陕隶雏雾灵韩颈颊颤刮台飘馅馋驾驻骄腾骤髋鬓鲁鲤鸽鹅鹤鹰盐霉鼹龄龚诉伙扎哄堕芦焖饺饨满趸崭缝绸裤袄秋千';

const TO_SIMPLIFIED = new Map<string, string>();
for (let i = 0; i < TRADITIONAL.length; i++) {
  const t = TRADITIONAL[i];
  const s = SIMPLIFIED[i];
  if (t !== undefined && s !== undefined) TO_SIMPLIFIED.set(t, s);
}

// Simplified forms that are also ordinary Traditional characters (干, 只, 台, 后 …): no clue to the script.
const SHARED = new Set('干只台后里面发松斗胡系范制复余丑困卤冲准几凶咸表板谷志唯折杰榨蒙郁厘欺了卜吃周注当尽券雇弃');
const SIMPLIFIED_ONLY = new Set([...SIMPLIFIED].filter((ch) => !SHARED.has(ch) && !TO_SIMPLIFIED.has(ch)));

/** Maps Traditional characters to their Simplified forms; everything else is left as it is. */
export function toSimplified(text: string): string {
  let out = '';
  for (const ch of text) out += TO_SIMPLIFIED.get(ch) ?? ch;
  return out;
}

/** How many characters of the text only the Traditional, and only the Simplified, script uses. */
export function hanScriptCounts(text: string): { traditional: number; simplified: number } {
  let traditional = 0;
  let simplified = 0;
  for (const ch of text) {
    if (TO_SIMPLIFIED.has(ch) && !SHARED.has(ch)) traditional += 1;
    else if (SIMPLIFIED_ONLY.has(ch)) simplified += 1;
  }
  return { traditional, simplified };
}
