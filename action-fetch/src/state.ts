/** The names of the variables the post step must clear (JSON array), saved before anything is exported. */
export const STATE_EXPORTED_ENV = 'exportedEnv';
/** The folder of 0600 secret files the post step must remove. */
export const STATE_FILES_DIR = 'filesDir';
/** Every folder this action creates starts with this, so the post step never removes anything else. */
export const FILES_DIR_PREFIX = 'keyfence-fetch-';
