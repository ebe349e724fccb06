#!/usr/bin/env python3
"""Writes the demo storefront's product pictures: one SVG per demo item, drawn from shapes here
(no outside source), coloured and labelled per item. Deterministic; run after changing the demo
catalogue (src/Personalizer.Engine/Demo/DemoSeeder.cs) and commit the result:

    python3 tools/demo-images.py src/Personalizer.Api/wwwroot/demo/img/items
"""
import hashlib, os, sys

CATEGORIES = ["running", "hiking", "yoga", "cycling", "swimming", "camping", "fitness", "apparel"]
ADJECTIVES = ["Swift", "Trail", "Alpine", "Urban", "Pro", "Classic", "Light", "Storm", "Summit", "Flex"]
NOUNS = {
    "running": ["Running Shoe", "Race Singlet", "Running Tights", "Hydration Vest", "Running Cap"],
    "hiking": ["Hiking Boot", "Trekking Poles", "Daypack", "Hiking Socks", "Trail Map Case"],
    "yoga": ["Yoga Mat", "Yoga Block", "Yoga Strap", "Meditation Cushion", "Yoga Leggings"],
    "cycling": ["Cycling Helmet", "Bike Light", "Cycling Jersey", "Bike Lock", "Cycling Gloves"],
    "swimming": ["Swim Goggles", "Swim Cap", "Swimsuit", "Kickboard", "Pull Buoy"],
    "camping": ["Tent", "Sleeping Bag", "Camp Stove", "Headlamp", "Camping Chair"],
    "fitness": ["Kettlebell", "Resistance Band", "Jump Rope", "Foam Roller", "Dumbbell Set"],
    "apparel": ["Rain Jacket", "Fleece", "Base Layer", "Softshell Pants", "Beanie"],
}
PALETTE = ["#e4572e", "#29335c", "#f3a712", "#669bbc", "#2a9d8f", "#8e5572", "#3d5a80", "#bc4b51", "#5b8e7d", "#f4a259"]
BACKGROUNDS = {"running": "#fdebe4", "hiking": "#e9efe4", "yoga": "#f1e9f5", "cycling": "#e4eef7", "swimming": "#e1f3f6",
               "camping": "#eef0e2", "fitness": "#f6eee2", "apparel": "#e9ebf2"}

# One pictogram per category, on a 240 x 160 canvas, in the item's colour C and a darker D.
GLYPHS = {
    "running": '<path d="M50 100 q10-38 38-40 l22 12 q26 6 58 14 q22 6 22 20 v8 H50z" fill="C"/><path d="M50 114 h140 v10 H50z" fill="D"/>'
               '<path d="M92 70 l10 8 M104 66 l10 8 M116 64 l10 8" stroke="#fff" stroke-width="4"/>',
    "hiking": '<path d="M30 130 L95 45 L130 90 L150 65 L210 130z" fill="C"/><path d="M95 45 L110 65 L100 62 L88 70z" fill="#fff"/>'
              '<path d="M30 130 H210" stroke="D" stroke-width="6"/>',
    "yoga": '<rect x="40" y="96" width="160" height="18" rx="9" fill="C"/><circle cx="120" cy="46" r="12" fill="D"/>'
            '<path d="M120 58 v26 M96 72 l24 10 l24-10 M98 94 l22-10 l22 10" stroke="D" stroke-width="8" stroke-linecap="round" fill="none"/>',
    "cycling": '<circle cx="72" cy="100" r="30" fill="none" stroke="C" stroke-width="8"/><circle cx="168" cy="100" r="30" fill="none" stroke="C" stroke-width="8"/>'
               '<path d="M72 100 L104 60 H150 L168 100 M104 60 L124 100 H72 M150 60 L144 46 H130" stroke="D" stroke-width="7" fill="none" stroke-linejoin="round"/>',
    "swimming": '<path d="M20 112 q25-16 50 0 t50 0 t50 0 t50 0" stroke="C" stroke-width="8" fill="none"/>'
                '<path d="M20 132 q25-16 50 0 t50 0 t50 0 t50 0" stroke="C" stroke-width="8" fill="none" opacity=".6"/>'
                '<circle cx="92" cy="66" r="20" fill="D"/><circle cx="148" cy="66" r="20" fill="D"/><path d="M112 66 h16" stroke="D" stroke-width="8"/>'
                '<circle cx="92" cy="66" r="10" fill="#dff"/><circle cx="148" cy="66" r="10" fill="#dff"/>',
    "camping": '<path d="M36 128 L120 34 L204 128z" fill="C"/><path d="M120 34 L96 128 H144z" fill="D"/><path d="M20 128 H220" stroke="D" stroke-width="6"/>',
    "fitness": '<path d="M96 58 q24-34 48 0" stroke="D" stroke-width="12" fill="none"/><circle cx="120" cy="96" r="40" fill="C"/>'
               '<path d="M100 92 h40" stroke="#fff" stroke-width="6" stroke-linecap="round"/>',
    "apparel": '<path d="M84 34 L60 48 L36 84 L58 96 L70 78 V134 H170 V78 L182 96 L204 84 L180 48 L156 34 Q120 58 84 34z" fill="C"/>'
               '<path d="M120 52 V134" stroke="D" stroke-width="4"/><path d="M104 44 q16 14 32 0" stroke="D" stroke-width="4" fill="none"/>',
}

def darker(hex_colour, f=0.6):
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#%02x%02x%02x" % (int(r * f), int(g * f), int(b * f))

def items():
    for category in CATEGORIES:
        for i in range(40):
            noun = NOUNS[category][i % 5]
            adjective = ADJECTIVES[(i // 5 + CATEGORIES.index(category)) % len(ADJECTIVES)]
            yield f"sku-{category[:3]}-{i + 1:03d}", category, f"{adjective} {noun} {i // 10 + 1}", adjective

def svg(item_id, category, title, brand):
    h = int(hashlib.sha256(item_id.encode()).hexdigest(), 16)
    colour = PALETTE[h % len(PALETTE)]
    glyph = GLYPHS[category].replace('"C"', f'"{colour}"').replace('"D"', f'"{darker(colour)}"')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="240" height="200" viewBox="0 0 240 200" role="img" aria-label="{title}">'
            f'<rect width="240" height="200" rx="10" fill="{BACKGROUNDS[category]}"/>'
            f'<g transform="translate(0 6)">{glyph}</g>'
            f'<text x="120" y="168" font-family="system-ui, sans-serif" font-size="14" font-weight="600" fill="#1d2433" text-anchor="middle">{title}</text>'
            f'<text x="120" y="188" font-family="system-ui, sans-serif" font-size="11" fill="#5d6677" text-anchor="middle" letter-spacing="2">{brand.upper()}</text></svg>\n')

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "src/Personalizer.Api/wwwroot/demo/img/items"
    os.makedirs(out, exist_ok=True)
    n = 0
    for item_id, category, title, brand in items():
        with open(os.path.join(out, item_id + ".svg"), "w", encoding="utf-8") as f:
            f.write(svg(item_id, category, title, brand))
        n += 1
    print(f"wrote {n} pictures to {out}")
