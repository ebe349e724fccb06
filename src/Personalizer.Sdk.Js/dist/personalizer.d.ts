export interface InitOptions {
  /** Base URL of the Personalizer service, e.g. https://p13n.example.com ('' for the same origin). */
  endpoint: string;
  /** The site's public key. */
  siteKey: string;
  /** How long slots stay hidden waiting for a decision before showing their default markup. Default 300. */
  timeoutMs?: number;
  /** false: no visitor id is stored and no event is sent. Default true. */
  consent?: boolean;
  /** Per slot id: render the answer yourself instead of the template. */
  render?: Record<string, (element: HTMLElement, answer: SlotAnswer) => void>;
}

export interface Item {
  itemId: string;
  score: number;
  title: string;
  price: number;
  currency?: string;
  url?: string;
  imageUrl?: string;
  categories: string[];
}

export interface SlotAnswer {
  variant?: string;
  content?: Record<string, unknown>;
  items?: Item[];
  source: string;
  reason?: string;
  /** With `{ explain: true }`: what each strategy, rule and filter did, in order. */
  trace?: { strategy: string; outcome: string; detail: string }[];
}

export interface Decision {
  decisionId: string;
  slots: Record<string, SlotAnswer>;
  configVersion: number;
  unknownSlots?: string[];
}

/** A page's own filters and boosts for one recommendations slot; they narrow the slot's own filters. */
export interface PageFilters {
  includeCategories?: string[];
  excludeCategories?: string[];
  includeBrands?: string[];
  excludeBrands?: string[];
  includeTags?: string[];
  excludeTags?: string[];
  attributes?: string[];
  minPrice?: number;
  maxPrice?: number;
  inStockOnly?: boolean;
  excludePurchased?: boolean;
  excludeInCart?: boolean;
  excludeRecentlyViewed?: boolean;
  maxPerCategory?: number;
  boostCategories?: string[];
}

export interface Preferences {
  personalization?: boolean;
  interests?: string[];
  excludedCategories?: string[];
  tracking?: "granted" | "denied" | "unknown";
}

export interface PersonalizerApi {
  init(options: InitOptions): PersonalizerApi;
  track(type: string, properties?: Record<string, unknown>): void;
  /** Decides and renders the page's slots (or the ones named); `{ explain: true }` adds each slot's trace to the answer. */
  decide(slots?: string[] | null, context?: Record<string, unknown>, options?: { explain?: boolean; filters?: Record<string, PageFilters> }): Promise<Decision | null>;
  identify(customerId: string, traits?: Record<string, unknown>): void;
  setPreferences(preferences: Preferences): Promise<Response | null>;
  setConsent(granted: boolean): void;
  flush(): void;
  readonly visitorId: string | null;
  readonly lastDecision: Decision | null;
}

declare const Personalizer: PersonalizerApi;
export default Personalizer;
