import type { Member as CoreMember } from '../core/index.js';
import { tagsOf } from '../serf/index.js';
import type { Member } from './types.js';

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
  };
}
