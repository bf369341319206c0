// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title RxForwarder
/// @notice Relays requests that members signed (EIP-712, with nonce, deadline and chain id):
/// any gateway may submit them, none can forge or alter them.
contract RxForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("RxLedger") {}
}
