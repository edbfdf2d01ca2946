/**
 * Llama 2 chat's prompt format (Touvron et al. 2023; REFERENCE.md), for endpoints that offer
 * only `/v1/completions`: `[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST]`. The BOS token
 * `<s>` is left to the server, which adds it when it tokenizes (vLLM, TGI and llama.cpp do);
 * `withBos` writes it as text for servers that do not.
 */
export function llama2ChatPrompt(system: string, user: string, withBos = false): string {
  const sys = system.trim() === '' ? '' : `<<SYS>>\n${system.trim()}\n<</SYS>>\n\n`;
  return `${withBos ? '<s>' : ''}[INST] ${sys}${user.trim()} [/INST]`;
}
