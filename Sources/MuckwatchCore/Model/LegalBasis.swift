/// The legal basis and penalty range each rule's draft case cites, as shipped.
/// The centre's legal office should confirm them against the local
/// regulations in force; every one can be replaced in the config
/// (`rules.<rule>.legal_basis`, `rules.<rule>.penalty`).
public enum LegalBasis {
    static let airLaw = "《中华人民共和国大气污染防治法》"
    static let wasteRules = "《城市建筑垃圾管理规定》"

    static let transport = airLaw + "第七十条：运输煤炭、垃圾、渣土、砂石、土方、灰浆等散装、流体物料的车辆应当采取密闭或者其他措施防止物料遗撒造成扬尘污染，并按照规定路线行驶。"
    static let transportPenalty = airLaw + "第一百一十六条：由县级以上地方人民政府确定的监督管理部门责令改正，处二千元以上二万元以下的罚款；拒不改正的，车辆不得上道路行驶。"
    static let fume = airLaw + "第八十一条：排放油烟的餐饮服务业经营者应当安装油烟净化设施并保持正常使用，或者采取其他油烟净化措施，使油烟达标排放，并防止对附近居民的正常生活环境造成污染。"
    static let fumePenalty = airLaw + "第一百一十八条：由县级以上地方人民政府确定的监督管理部门责令改正，处五千元以上五万元以下的罚款；拒不改正的，责令停业整治。"

    public static let defaults: [String: String] = [
        "uncovered_load": transport,
        "spill": transport,
        "illegal_dumping": wasteRules + "第十五条：任何单位和个人不得随意倾倒、抛撒或者堆放建筑垃圾。",
        "unwashed_exit": airLaw + "第六十九条：施工单位应当在施工工地设置硬质围挡，并采取覆盖、分段作业、择时施工、洒水抑尘、冲洗地面和车辆等有效防尘降尘措施。",
        "off_hours": wasteRules + "第十四条：处置建筑垃圾的单位在运输建筑垃圾时，应当随车携带建筑垃圾处置核准文件，按照城市人民政府有关部门规定的运输路线、时间运行。",
        "fume_exceedance": fume,
        "purifier_off": fume,
    ]

    public static let defaultPenalties: [String: String] = [
        "uncovered_load": transportPenalty,
        "spill": transportPenalty,
        "illegal_dumping": wasteRules + "第二十六条：由城市人民政府市容环境卫生主管部门责令限期改正，给予警告，并对单位处5000元以上5万元以下罚款，对个人处200元以下罚款。",
        "unwashed_exit": airLaw + "第一百一十五条：责令改正，处一万元以上十万元以下的罚款；拒不改正的，责令停工整治。",
        "off_hours": "按本市建筑垃圾管理条例对未按规定时间运输的处罚规定（请在配置中填写）。",
        "fume_exceedance": fumePenalty,
        "purifier_off": fumePenalty,
    ]
}
