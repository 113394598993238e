/** The chat's transport handler, built by the toolkit from functions/chat/app.ts. */
import chat from './chat/app';

export const main_handler = chat.transport;
export type { TransportResult } from './toolkit';
