/** The chat's cleanup handler, built by the toolkit from functions/chat/app.ts. */
import chat from './chat/app';

export const main_handler = chat.cleanup;
