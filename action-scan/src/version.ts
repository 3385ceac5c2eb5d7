/** The action's version, as SARIF reports it (kept equal to action-scan/package.json by a test). */
export const VERSION = '0.1.0';
