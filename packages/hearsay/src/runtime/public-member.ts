import type { Member as CoreMember } from '../core/index.js';
import { tagsOf } from '../serf/index.js';
import type { Member, MemberVersions } from './types.js';

/** A member as the library hands it out: a snapshot with its tags decoded. */
export function publicMember(member: CoreMember): Member {
  return {
    name: member.name,
    address: member.host,
    port: member.port,
    status: member.status,
    incarnation: member.incarnation,
    tags: tagsOf(member.meta),
    meta: member.meta,
    since: member.since,
    ...(member.rttMs === undefined ? {} : { rttMs: member.rttMs }),
    versions: versionsOf(member.vsn),
  };
}

/** memberlist's six version bytes, [PMin, PMax, PCur, DMin, DMax, DCur] (the core takes in no other length). */
function versionsOf(vsn: Uint8Array): MemberVersions {
  const at = (index: number) => vsn[index] ?? 0;
  return { protocol: { min: at(0), max: at(1), current: at(2) }, delegate: { min: at(3), max: at(4), current: at(5) } };
}
