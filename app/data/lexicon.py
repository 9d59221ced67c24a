"""A small fashion lexicon: categories that colour the explorer's plot and anchor its tests."""

from __future__ import annotations

FASHION_CATEGORIES: dict[str, set[str]] = {
    "garments": set("""
        dress dresses gown gowns skirt skirts top tops blouse blouses shirt shirts tee tees t-shirt tank
        tanks cami camisole sweater sweaters cardigan cardigans pullover jumper jacket jackets coat coats
        blazer blazers vest vests jeans jean pants trousers leggings shorts romper jumpsuit overalls
        tunic tunics hoodie sweatshirt bra bras bralette panties lingerie slip swimsuit bikini kimono
        poncho shawl scarf scarves parka trench maxi midi mini sundress culottes joggers capris chinos
        pajamas robe bodysuit turtleneck henley polo shift sheath peplum shrug duster pullovers
        sweatpants trouser denim-jacket onesie caftan kaftan corset wrap
        """.split()),
    "fabrics": set("""
        silk cotton linen wool cashmere denim lace leather suede velvet satin chiffon polyester rayon
        spandex lycra nylon jersey knit knits fleece tweed corduroy flannel viscose modal acrylic
        mohair angora alpaca merino chambray gauze tulle organza crepe georgette taffeta sateen
        fabric fabrics material materials poplin voile twill canvas sherpa faux-fur fur mesh
        """.split()),
    "colours": set("""
        black white red blue green yellow pink purple orange brown grey gray navy beige cream ivory
        tan olive burgundy maroon teal turquoise coral mustard khaki charcoal nude blush mauve lavender
        lilac plum wine rust camel taupe mint aqua magenta fuchsia salmon peach gold silver emerald
        cobalt indigo ochre
        """.split()),
    "fit and sizes": set("""
        petite petites size sizes sizing small medium large xs xl xxl xxs tall plus fit fits fitted
        loose tight snug baggy boxy oversized roomy slim relaxed tailored length long short cropped
        inseam waist waisted waistband regular runs true-to-size sized bigger smaller
        """.split()),
    "body": set("""
        bust chest hips hip shoulders shoulder arms arm legs leg torso tummy belly thighs thigh back
        neck waistline curves curvy figure frame butt booty calves knees knee ankles ankle
        """.split()),
    "details": set("""
        sleeve sleeves sleeveless neckline collar collars hem hemline pocket pockets button buttons zipper
        zip ruffle ruffles pleats pleated embroidery embroidered print prints pattern patterns stripes
        striped floral plaid polka lining lined belt straps strap hood v-neck crewneck scoop trim
        fringe sequins beading ribbed
        """.split()),
    "occasions": set("""
        wedding party office work weekend summer winter spring fall autumn holiday vacation beach
        casual formal evening date brunch church travel cocktail gala prom interview everyday
        """.split()),
    "designers and brands": set("""
        chanel dior gucci prada versace armani valentino givenchy balenciaga hermes lanvin fendi
        burberry ferragamo louboutin blahnik manolo choo jimmy vuitton celine chloe dolce gabbana
        missoni moschino mcqueen westwood galliano lagerfeld saint laurent ysl balmain kors
        ralph lauren calvin klein tommy hilfiger donna karan dkny zara gap anthropologie j.crew
        nordstrom levi's levis guess mango topshop h&m uniqlo free-people maeve moth pilcro hd
        """.split()),
    "footwear and accessories": set("""
        shoes shoe boots boot heels heel sandals sandal sneakers flats pumps loafers stilettos
        handbag handbags purse bag bags clutch jewelry necklace earrings bracelet hat hats belt
        gloves sunglasses tights socks
        """.split()),
}

OTHER = "other"


def category_of(word: str) -> str:
    for name, words in FASHION_CATEGORIES.items():
        if word in words:
            return name
    return OTHER


# Terms that seed GloVe's fashion vocabulary: its words nearest to these are projected.
GLOVE_SEED_TERMS = [
    "dress", "skirt", "blouse", "sweater", "jacket", "coat", "jeans", "trousers", "lingerie", "swimsuit",
    "silk", "cotton", "wool", "cashmere", "lace", "leather", "denim", "velvet", "chiffon", "linen",
    "red", "navy", "beige", "burgundy", "turquoise",
    "petite", "size", "waist", "sleeve", "hem", "collar", "neckline",
    "fashion", "designer", "couture", "runway", "boutique", "model", "vogue",
    "chanel", "dior", "gucci", "prada", "versace", "lanvin", "manolo", "blahnik", "valentino", "armani",
    "shoes", "boots", "heels", "sandals", "handbag", "jewelry", "necklace", "earrings",
    "wedding", "party", "elegant", "casual", "stylish", "gorgeous", "comfortable", "flattering",
]


def glove_fashion_vocabulary(glove, size: int = 4000) -> list[str]:
    """GloVe's fashion corner: the seed terms, then their nearest neighbours, round-robin, so
    every seed contributes, until ``size`` words (alphabetic words only)."""
    neighbour_lists = [[w for w, _ in glove.most_similar(seed, topn=size)] for seed in GLOVE_SEED_TERMS if seed in glove]
    chosen = dict.fromkeys(s for s in GLOVE_SEED_TERMS if s in glove)
    rank = 0
    while len(chosen) < size and rank < size:
        for neighbours in neighbour_lists:
            word = neighbours[rank]
            if word.isalpha():
                chosen.setdefault(word)
        rank += 1
    return list(chosen)[:size]
