/** The program's version, printed by `-V` (the release build embeds the target too). */
export const VERSION = "0.1.0";
