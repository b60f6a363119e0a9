//! The words seeded product names and descriptions are made of, in one
//! place for both binaries: `orders-seed` splices them into its SQL as
//! arrays (products.sql picks from them by hashes of the product number),
//! and `orders-load` (which includes this file with `#[path]`) builds its
//! search queries from them, so that every query it sends finds real
//! products.
//!
//! A name is `<brand> <attribute> <noun> X<n>`, e.g. "Kaldera Stainless
//! Steel Espresso Machine X412"; a description is 8 to 20 words of
//! [`VOCABULARY`]. Changing a list changes the names of products seeded
//! afterwards (existing ones keep theirs), and the queries with them.
//!
//! Plain ASCII letters and single spaces only: the load generator
//! misspells words letter by letter, and the lists go into SQL literals.
//! Laid out by hand (`rustfmt::skip`): rustfmt would give each word a line.

/// Makers (40): one word each, invented.
#[rustfmt::skip]
pub const BRANDS: &[&str] = &[
    "Acme", "Aldern", "Bergmann", "Brightway", "Caldera", "Corvin", "Dalby", "Eskel", "Fenwick", "Fjordline",
    "Galloway", "Hartwell", "Helix", "Ironbark", "Juniper", "Kaldera", "Kestrel", "Lindqvist", "Lumen", "Marlowe",
    "Nordhaus", "Oakridge", "Orbis", "Pemberton", "Quill", "Ravenna", "Redfern", "Solano", "Sterling", "Tamsin",
    "Thornbury", "Ulmen", "Vantage", "Verano", "Westbrook", "Wexford", "Yardley", "Zenith", "Zephyr", "Brevik",
];

/// Colours, materials and qualities (60), some of two words.
#[rustfmt::skip]
pub const ATTRIBUTES: &[&str] = &[
    "Black", "White", "Red", "Blue", "Green", "Grey", "Silver", "Gold", "Copper", "Bronze", "Navy", "Olive", "Ivory",
    "Charcoal", "Sand", "Teal", "Burgundy", "Mint", "Coral", "Slate", "Matte Black", "Stainless Steel",
    "Brushed Aluminium", "Cast Iron", "Bamboo", "Oak", "Walnut", "Ceramic", "Glass", "Leather", "Cotton", "Linen",
    "Wool", "Merino", "Carbon", "Titanium", "Porcelain", "Marble", "Compact", "Portable", "Professional", "Classic",
    "Deluxe", "Lightweight", "Heavy Duty", "Cordless", "Wireless", "Smart", "Organic", "Vintage", "Modern", "Rustic",
    "Ergonomic", "Foldable", "Insulated", "Waterproof", "Premium", "Essential", "Ultra", "Mini",
];

/// What the product is (80), many of two words: the words customers type.
#[rustfmt::skip]
pub const NOUNS: &[&str] = &[
    "Espresso Machine", "Milk Frother", "Coffee Grinder", "Green Tea", "Black Tea", "Herbal Tea", "Teapot",
    "Tea Kettle", "French Press", "Pour Over Dripper", "Coffee Beans", "Coffee Mug", "Travel Mug", "Water Bottle",
    "Running Shoes", "Hiking Boots", "Trail Shoes", "Rain Jacket", "Down Jacket", "Fleece Hoodie", "Wool Socks",
    "Yoga Mat", "Dumbbell Set", "Kettlebell", "Jump Rope", "Resistance Bands", "Foam Roller", "Cycling Helmet",
    "Bike Light", "Backpack", "Duffel Bag", "Laptop Sleeve", "Wallet", "Sunglasses", "Wristwatch", "Headphones",
    "Earbuds", "Bluetooth Speaker", "Phone Charger", "Power Bank", "USB Cable", "Mechanical Keyboard", "Wireless Mouse",
    "Desk Lamp", "Monitor Stand", "Office Chair", "Standing Desk", "Notebook", "Fountain Pen", "Chef Knife",
    "Cutting Board", "Frying Pan", "Saucepan", "Dutch Oven", "Stand Mixer", "Blender", "Toaster", "Rice Cooker",
    "Slow Cooker", "Air Fryer", "Food Processor", "Salad Bowl", "Dinner Plate", "Wine Glass", "Cocktail Shaker",
    "Ice Cube Tray", "Bath Towel", "Bed Sheet", "Duvet Cover", "Pillow", "Throw Blanket", "Scented Candle", "Plant Pot",
    "Garden Hose", "Pruning Shears", "Tent", "Sleeping Bag", "Camping Stove", "Headlamp", "Umbrella",
];

/// Descriptions are drawn from these (about 300): the words of a shop's copy.
#[rustfmt::skip]
pub const VOCABULARY: &[&str] = &[
    "a", "an", "the", "and", "or", "with", "for", "from", "in", "on", "of", "to", "by", "at", "your", "every", "all",
    "day", "night", "morning", "evening", "week", "weekend", "season", "year", "home", "kitchen", "office", "garden",
    "travel", "outdoor", "indoor", "city", "trail", "mountain", "beach", "studio", "desk", "table", "shelf", "drawer",
    "bag", "pocket", "car", "camp", "gym", "park", "coffee", "tea", "water", "milk", "breakfast", "lunch", "dinner",
    "snack", "recipe", "meal", "drink", "flavour", "aroma", "taste", "texture", "colour", "finish", "surface", "handle",
    "lid", "base", "edge", "strap", "zip", "button", "switch", "cable", "battery", "charge", "motor", "blade", "filter",
    "seal", "grip", "sole", "lining", "fabric", "stitching", "frame", "shell", "design", "shape", "size", "weight",
    "capacity", "power", "speed", "setting", "mode", "timer", "display", "light", "sound", "heat", "cold", "warmth",
    "comfort", "support", "balance", "fit", "style", "quality", "value", "warranty", "gift", "set", "pair", "pack",
    "piece", "kit", "spare", "refill", "accessory", "durable", "sturdy", "solid", "robust", "reliable", "gentle",
    "soft", "smooth", "firm", "airy", "heavy", "slim", "wide", "deep", "tall", "short", "long", "small", "large",
    "generous", "compact", "quiet", "fast", "quick", "easy", "simple", "clever", "practical", "versatile", "handy",
    "safe", "clean", "fresh", "crisp", "rich", "bold", "bright", "warm", "cool", "dry", "breathable", "washable",
    "removable", "adjustable", "stackable", "reusable", "recyclable", "sustainable", "natural", "pure", "genuine",
    "handmade", "crafted", "tested", "certified", "approved", "designed", "built", "made", "finished", "polished",
    "coated", "lined", "padded", "reinforced", "sealed", "balanced", "tuned", "calibrated", "keeps", "holds", "fits",
    "folds", "packs", "stores", "brews", "heats", "cools", "cleans", "cuts", "grinds", "blends", "pours", "carries",
    "protects", "supports", "lasts", "works", "charges", "connects", "lights", "makes", "serves", "saves", "gives",
    "brings", "lets", "helps", "stays", "looks", "feels", "runs", "walks", "climbs", "rides", "sleeps", "cooks",
    "bakes", "roasts", "steams", "boils", "simmers", "everyday", "weekday", "family", "friends", "guests", "beginners",
    "experts", "athletes", "commuters", "campers", "chefs", "bakers", "baristas", "runners", "hikers", "cyclists",
    "students", "writers", "gardeners", "travellers", "children", "adults", "two", "three", "four", "six", "twelve",
    "hours", "minutes", "litres", "cups", "layers", "pockets", "sizes", "colours", "modes", "settings", "years", "new",
    "improved", "original", "favourite", "popular", "limited", "edition", "series", "collection", "range", "model",
    "version", "classic", "modern", "timeless", "elegant", "minimal", "rugged", "cosy", "calm", "lively", "sunny",
    "rainy", "winter", "summer", "spring", "autumn", "ready", "perfect", "tidy", "neat", "steady",
];
