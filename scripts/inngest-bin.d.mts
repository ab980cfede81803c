export declare const INNGEST_VERSION: string;
export declare function cacheDir(): string;
export declare function ensureInngestBinary(options?: { log?: (line: string) => void }): Promise<{ path: string; legacy: boolean }>;
export declare function inngestDevArgs(options: { port: number }): string[];
export declare function inngestStartArgs(options: { port: number; sqliteDir: string }): string[];
