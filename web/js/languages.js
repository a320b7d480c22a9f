// Language codes the backend accepts (docs/protocol.md, "Languages"); kept equal to the
// catalogue in functions/common/languages.py by tests/web/test_languages.py.

/** Amazon Transcribe streaming codes a speaker may speak. */
export const SOURCE_LANGUAGES = [
  "af-ZA", "am-ET", "ar-AE", "ar-SA", "be-BY", "bg-BG", "bn-IN", "bs-BA", "ca-ES", "ckb-IQ",
  "ckb-IR", "cs-CZ", "cy-WL", "da-DK", "de-CH", "de-DE", "el-GR", "en-AB", "en-AU", "en-GB",
  "en-IE", "en-IN", "en-NZ", "en-US", "en-WL", "en-ZA", "es-ES", "es-MX", "es-US", "et-ET",
  "eu-ES", "fa-AF", "fa-IR", "fi-FI", "fr-CA", "fr-FR", "gl-ES", "gu-IN", "he-IL", "hi-IN",
  "hr-HR", "ht-HT", "hu-HU", "hy-AM", "id-ID", "is-IS", "it-IT", "ja-JP", "jv-ID", "ka-GE",
  "kab-DZ", "kk-KZ", "km-KH", "kn-IN", "ko-KR", "lg-IN", "lt-LT", "lv-LV", "mk-MK", "ml-IN",
  "mr-IN", "ms-MY", "my-MM", "ne-NP", "nl-NL", "no-NO", "or-IN", "pa-IN", "pl-PL", "ps-AF",
  "pt-BR", "pt-PT", "ro-RO", "ru-RU", "si-LK", "sk-SK", "sl-SI", "so-SO", "sq-AL", "sr-RS",
  "su-ID", "sv-SE", "sw-BI", "sw-KE", "sw-RW", "sw-TZ", "sw-UG", "ta-IN", "te-IN", "th-TH",
  "tl-PH", "tr-TR", "uk-UA", "uz-UZ", "vi-VN", "zh-CN", "zh-HK", "zh-TW", "zu-ZA",
];

/** Codes a listener may hear (Translate target with a Polly neural voice). */
export const TARGET_LANGUAGES = [
  "ar", "ca", "cs", "da", "de", "en", "es", "es-MX", "fi", "fr", "fr-CA", "hi", "it", "ja", "ko",
  "nl", "no", "pl", "pt", "pt-PT", "sv", "tr", "zh",
];

/** A human name for a code, in the page's language ("es" -> "Spanish"). */
export function languageName(code) {
  try {
    const names = new Intl.DisplayNames([navigator.language || "en"], { type: "language" });
    const name = names.of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

/** Fill a <select> with language options, selecting `preferred` when offered. */
export function fillLanguageSelect(select, codes, preferred) {
  select.replaceChildren(...codes.map((code) => new Option(languageName(code), code)));
  if (preferred && codes.includes(preferred)) select.value = preferred;
}
